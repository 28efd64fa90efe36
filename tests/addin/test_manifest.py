"""The add-in manifest, checked offline (Microsoft's validator needs its online service):
well formed, element order, every resid defined once and used, the icons, every URL https on
the public origin and served by the backend, ribbon functions and custom functions matching
the JavaScript that registers them."""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from elksxl.server.static import PLACEHOLDER, render_manifest
from elksxl.server.testing import BackendHandle, running_backend
from elksxl.simulator.testing import SimulatorHandle

REPO = Path(__file__).resolve().parents[2]
ADDIN = REPO / "addin"
TEMPLATE = (REPO / "manifest.xml").read_text(encoding="utf-8")
ORIGIN = "https://sms.example.com:8443"
NS = {
    "o": "http://schemas.microsoft.com/office/appforoffice/1.1",
    "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
    "ov": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
XSI_TYPE = f"{{{NS['xsi']}}}type"
# The order the OfficeApp schema fixes for the elements this manifest uses.
OFFICE_APP_ORDER = [
    "Id", "Version", "ProviderName", "DefaultLocale", "DisplayName", "Description", "IconUrl",
    "HighResolutionIconUrl", "SupportUrl", "AppDomains", "Hosts", "Requirements",
    "DefaultSettings", "Permissions", "VersionOverrides",
]  # fmt: skip


@pytest.fixture(scope="module")
def root() -> ET.Element:
    return ET.fromstring(render_manifest(TEMPLATE, ORIGIN))


def local(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def resources(root: ET.Element) -> dict[str, ET.Element]:
    found = root.find("ov:VersionOverrides/ov:Resources", NS)
    assert found is not None
    return {e.attrib["id"]: e for e in found.iter() if "id" in e.attrib}


def urls(root: ET.Element) -> Iterator[str]:
    for element in root.iter():
        for name in ("DefaultValue",):
            value = element.attrib.get(name, "")
            if value.startswith(("http://", "https://", "//")):
                yield value
        if local(element) in ("AppDomain", "SourceLocation") and (element.text or "").strip():
            yield (element.text or "").strip()


def test_the_template_is_well_formed_and_only_its_urls_carry_the_placeholder() -> None:
    ET.fromstring(TEMPLATE)  # raises when not well formed
    rendered = render_manifest(TEMPLATE, ORIGIN)
    assert PLACEHOLDER not in rendered
    assert "{{" not in rendered


def test_the_top_level_elements_are_in_schema_order(root: ET.Element) -> None:
    names = [local(child) for child in root]
    assert names == [n for n in OFFICE_APP_ORDER if n in names]
    assert root.attrib[XSI_TYPE] == "TaskPaneApp"
    uuid.UUID(root.findtext("o:Id", namespaces=NS))


def test_every_resid_is_defined_once_and_every_resource_is_used(root: ET.Element) -> None:
    section = root.find("ov:VersionOverrides/ov:Resources", NS)
    assert section is not None
    defined = Counter(e.attrib["id"] for e in section.iter() if "id" in e.attrib)
    assert [rid for rid, n in defined.items() if n > 1] == []
    used = {e.attrib["resid"] for e in root.iter() if "resid" in e.attrib}
    assert used - set(defined) == set(), "resids used but not defined"
    assert set(defined) - used == set(), "resources defined but never used"
    assert all(len(rid) <= 32 for rid in defined)


def test_strings_fit_the_schema_limits(root: ET.Element) -> None:
    short = root.findall(".//bt:ShortStrings/bt:String", NS)
    long = root.findall(".//bt:LongStrings/bt:String", NS)
    assert short
    assert long
    assert all(len(s.attrib["DefaultValue"]) <= 125 for s in short)
    assert all(len(s.attrib["DefaultValue"]) <= 250 for s in long)


def test_the_ribbon_is_an_sms_tab_with_the_pane_and_check_numbers_buttons(
    root: ET.Element,
) -> None:
    res = resources(root)
    tab = root.find(".//ov:CustomTab", NS)
    assert tab is not None
    label = tab.find("ov:Label", NS)
    assert label is not None
    assert res[label.attrib["resid"]].attrib["DefaultValue"] == "SMS"
    actions = [c.find("ov:Action", NS) for c in tab.iter(f"{{{NS['ov']}}}Control")]
    kinds = sorted(a.attrib[XSI_TYPE] for a in actions if a is not None)
    assert kinds == ["ExecuteFunction", "ShowTaskpane"]


def icon_file(url: str) -> Path:
    return ADDIN / urlsplit(url).path.lstrip("/")


def test_every_icon_set_has_16_32_and_80_pixel_images_that_exist(root: ET.Element) -> None:
    res = resources(root)
    icons = root.findall(".//ov:Icon", NS)
    assert icons
    for icon in icons:
        sizes = {}
        for image in icon.findall("bt:Image", NS):
            sizes[int(image.attrib["size"])] = res[image.attrib["resid"]].attrib["DefaultValue"]
        assert sorted(sizes) == [16, 32, 80]
        for size, url in sizes.items():
            with Image.open(icon_file(url)) as picture:
                assert picture.size == (size, size), url


def test_the_add_in_icons_are_32_and_64_pixels(root: ET.Element) -> None:
    for name, size in (("IconUrl", 32), ("HighResolutionIconUrl", 64)):
        element = root.find(f"o:{name}", NS)
        assert element is not None
        with Image.open(icon_file(element.attrib["DefaultValue"])) as picture:
            assert picture.size == (size, size)


def test_every_url_is_https_on_the_public_origin_and_is_a_file_of_the_addin(
    root: ET.Element,
) -> None:
    found = list(urls(root))
    assert len(found) >= 8
    for url in found:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == ORIGIN, url
        if parts.path not in ("", "/"):
            assert (ADDIN / parts.path.lstrip("/")).is_file(), url


def test_one_shared_runtime_page_serves_pane_ribbon_and_custom_functions(
    root: ET.Element,
) -> None:
    runtime = root.find(".//ov:Runtimes/ov:Runtime", NS)
    assert runtime is not None
    assert runtime.attrib["lifetime"] == "long"
    page = runtime.attrib["resid"]
    function_file = root.find(".//ov:FunctionFile", NS)
    functions_page = root.find(".//ov:ExtensionPoint/ov:Page/ov:SourceLocation", NS)
    assert function_file is not None
    assert functions_page is not None
    assert function_file.attrib["resid"] == functions_page.attrib["resid"] == page
    html = (ADDIN / "taskpane.html").read_text(encoding="utf-8")
    for script in ("/assets/commands.js", "/functions.js"):
        assert f'src="{script}"' in html, f"the shared page must load {script}"


def test_ribbon_function_names_are_the_ids_associated_in_commands_js(root: ET.Element) -> None:
    names = {e.text for e in root.iter(f"{{{NS['ov']}}}FunctionName")}
    script = (ADDIN / "assets" / "commands.js").read_text(encoding="utf-8")
    associated = set(re.findall(r"Office\.actions\.associate\(\s*\"([^\"]+)\"", script))
    assert names == associated != set()


def test_custom_function_ids_match_the_metadata_and_the_runtime(root: ET.Element) -> None:
    res = resources(root)
    namespace = root.find(".//ov:Namespace", NS)
    assert namespace is not None
    assert res[namespace.attrib["resid"]].attrib["DefaultValue"] == "ELKS"
    metadata = json.loads((ADDIN / "functions.json").read_text(encoding="utf-8"))
    ids = [f["id"] for f in metadata["functions"]]
    assert ids == ["E164", "VALID", "PARTS", "ENCODING"]
    runtime = (ADDIN / "functions.js").read_text(encoding="utf-8")
    names = re.search(r"var NAMES = \[([^\]]*)\]", runtime)
    assert names is not None
    assert re.findall(r"\"([A-Z0-9]+)\"", names[1]) == ids
    assert "CustomFunctions.associate(name" in runtime


@pytest.fixture
def backend(simulator: SimulatorHandle, tmp_path: Path) -> Iterator[BackendHandle]:
    settings = simulator.settings(journal_path=tmp_path / "journal.sqlite3")
    with running_backend(settings, addin_dir=ADDIN, public_url=ORIGIN) as handle:
        yield handle


def test_the_backend_serves_the_rendered_manifest_and_every_url_in_it(
    backend: BackendHandle,
) -> None:
    with httpx.Client(base_url=backend.base_url, trust_env=False) as client:
        served = client.get("/manifest.xml")
        assert served.status_code == 200
        assert served.text == render_manifest(TEMPLATE, ORIGIN)
        for url in urls(ET.fromstring(served.text)):
            path = urlsplit(url).path or "/"
            if path == "/":
                continue
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.content == (ADDIN / path.lstrip("/")).read_bytes()
