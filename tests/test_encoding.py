"""GSM-7 or UCS-2, parts, splitting and smart replacement: reference examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elksxl.encoding import Encoding, TextInfo, analyze, is_gsm, smart_replace, split_parts

BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "\f^{}\\[~]|€"
# What smart replacement must handle (the Twilio list and the calculator's additions).
REPLACEABLE = (
    "«»“”„‟ʺˮ❝❞〝〞＂"  # double quotes
    "‘’‚‛ʻˈʼʽʹ＇´ˊ`ˋ❛❜"  # single quotes and apostrophes
    "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # hyphens, dashes, minus
    "…‼•‣⁃◦"  # ellipsis, double exclamation, bullets
    "\u00a0\u2002\u2003\u2009\u200a\u202f\u205f\u3000\t"  # spaces
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width characters
)


def info(encoding: Encoding, length: int, parts: int, chars: tuple[str, ...] = ()) -> TextInfo:
    return TextInfo(encoding, length, parts, chars)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, info("gsm7", 160, 1)),
        ("a" * 161, info("gsm7", 161, 2)),
        ("a" * 306, info("gsm7", 306, 2)),
        ("a" * 307, info("gsm7", 307, 3)),
        ("€" * 80, info("gsm7", 160, 1)),
        ("€" * 81, info("gsm7", 162, 2)),
        ("a" * 152 + "€" + "a" * 152, info("gsm7", 306, 3)),  # naive count says 2
        ("åäöÅÄÖé" * 22 + "åäöÅÄÖ", info("gsm7", 160, 1)),
        ("a" * 149 + "’", info("ucs2", 150, 3, ("’",))),
        ("ł" * 70, info("ucs2", 70, 1, ("ł",))),
        ("ł" * 71, info("ucs2", 71, 2, ("ł",))),
        ("😀" * 35, info("ucs2", 70, 1, ("😀",))),
        ("😀" * 36, info("ucs2", 72, 2, ("😀",))),
        ("x" * 66 + "😀" + "x" * 66, info("ucs2", 134, 3, ("😀",))),  # naive count says 2
        ("😜" + "1" * 133, info("ucs2", 135, 3, ("😜",))),
        ("", info("gsm7", 0, 0)),
    ],
)
def test_reference_examples(text: str, expected: TextInfo) -> None:
    assert analyze(text) == expected
    assert len(split_parts(text)) == expected.parts


def test_gsm_tables_are_exactly_the_reference_tables() -> None:
    assert len(set(BASIC)) == 127  # 128 positions minus the escape
    assert all(is_gsm(char) for char in BASIC + EXTENSION)
    assert not any(
        is_gsm(chr(code)) for code in range(0x30000) if chr(code) not in BASIC + EXTENSION
    )


@pytest.mark.parametrize("char", ["ç", "`", "\x1b", "\t", "ł", "’", "\u2126", "\u00a0", "😀"])
def test_characters_outside_gsm(char: str) -> None:
    # U+2126 is the ohm sign; the Greek capital omega U+03A9 that looks the same is GSM.
    assert not is_gsm(char)
    assert analyze(char).encoding == "ucs2"


def test_capital_c_cedilla_is_gsm_but_lowercase_is_not() -> None:
    assert analyze("Ça va").encoding == "gsm7"
    assert analyze("ça va").ucs2_chars == ("ç",)


def test_swedish_letters_stay_gsm() -> None:
    assert analyze("Hej Åsa! Välkommen till Örebro, café på Ängsvägen.") == info("gsm7", 50, 1)


def test_extension_characters_cost_two_septets_but_one_ucs2_unit() -> None:
    assert analyze("{€}").length == 6
    assert analyze("{€}ł").length == 4


def test_ucs2_chars_are_distinct_in_order_of_first_appearance() -> None:
    assert analyze("ł a ’ ł 😀 ’ ç").ucs2_chars == ("ł", "’", "😀", "ç")


def test_escape_pair_moves_whole_to_the_next_part() -> None:
    parts = split_parts("a" * 152 + "€" + "a" * 152)
    assert parts == ["a" * 152, "€" + "a" * 151, "a"]


def test_surrogate_pair_moves_whole_to_the_next_part() -> None:
    parts = split_parts("x" * 66 + "😀" + "x" * 66)
    assert parts == ["x" * 66, "😀" + "x" * 65, "x"]


@pytest.mark.parametrize(
    "cluster",
    [
        "👍🏽",  # skin tone modifier
        "👩\u200d👩\u200d👧",  # ZWJ family
        "🇸🇪",  # flag: two regional indicators
        "❤️",  # variation selector
        "e\u0301",  # combining acute
        "#️⃣",  # keycap
    ],
)
def test_character_clusters_are_not_cut_between_parts(cluster: str) -> None:
    text = "ł" * 66 + cluster + "ł" * 70
    parts = split_parts(text)
    assert parts[0] == "ł" * 66
    assert parts[1].startswith(cluster)
    assert len(parts) == analyze(text).parts


def test_a_cluster_longer_than_a_part_is_cut_at_code_points() -> None:
    text = "a" + "\u0301" * 200
    parts = split_parts(text)
    assert "".join(parts) == text
    assert all(len(part) <= 67 for part in parts)


def test_lone_surrogate_is_counted_not_an_error() -> None:
    assert analyze("a\ud83d") == info("ucs2", 2, 1, ("\ud83d",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("“Hej”, sa hon. ‘Okej’", "\"Hej\", sa hon. 'Okej'"),
        ("It’s 9–17 — or 8\u221210", "It's 9-17 - or 8-10"),
        ("Vänta…", "Vänta..."),
        ("Ja‼", "Ja!!"),
        ("• ett\n• två", "- ett\n- två"),
        ("kl\u00a014.30, 100\u202fkr, a\u2009b", "kl 14.30, 100 kr, a b"),
        ("zero\u200bwidth\u2060joined\ufeff", "zerowidthjoined"),
        ("a\u200db", "ab"),
        ("«citat»", '"citat"'),
        ("Ｈｅｊ！", "Hej!"),
        ("😀\u200d😀 och ’", "😀\u200d😀 och '"),  # a ZWJ that joins emoji stays
        ("łódź", "łódź"),  # nothing to replace: left as it is
    ],
)
def test_smart_replace(text: str, expected: str) -> None:
    assert smart_replace(text) == expected


def test_smart_replace_brings_a_curly_apostrophe_message_back_to_one_part() -> None:
    text = "a" * 149 + "’"
    assert analyze(text).parts == 3
    assert analyze(smart_replace(text)) == info("gsm7", 150, 1)


def test_every_smart_replacement_is_gsm() -> None:
    for code in range(0x10000):
        char = chr(code)
        if not is_gsm(char):
            replaced = smart_replace(char)
            assert replaced == char or all(is_gsm(c) for c in replaced), f"U+{code:04X}"


def test_smart_replace_leaves_gsm_text_alone() -> None:
    text = BASIC + EXTENSION
    assert smart_replace(text) == text


# --- properties -------------------------------------------------------------------------------

# Characters that exercise every path: basic, extension, UCS-2 BMP, astral, cluster parts.
SIMPLE = [*"aåÇ€^{|\n", "ł", "’", "ç", "😀", "👍"]
CLUSTER_PARTS = ["🏽", "\u200d", "\u0301", "🇸", "🇪", "\ufe0f"]
long_texts = st.one_of(
    st.text(alphabet=st.sampled_from(list("ab€[")), min_size=150, max_size=500),
    st.text(alphabet=st.sampled_from(["x", "ł", "😀"]), min_size=60, max_size=300),
)
# No cluster characters: every code point is an atom, so a plain count must agree.
unclustered = st.one_of(st.text(alphabet=st.sampled_from(SIMPLE), max_size=400), long_texts)
texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(SIMPLE + CLUSTER_PARTS), max_size=400),
    long_texts,
)


def naive_parts(text: str) -> int:
    """Reference: walk character by character (no clusters), the way the reference describes."""
    gsm = all(is_gsm(char) for char in text)
    costs = [
        (2 if char in EXTENSION else 1) if gsm else (2 if ord(char) > 0xFFFF else 1)
        for char in text
    ]
    single, limit = (160, 153) if gsm else (70, 67)
    if sum(costs) <= single:
        return 1 if text else 0
    parts, used = 1, 0
    for cost in costs:
        if used + cost > limit:
            parts, used = parts + 1, 0
        used += cost
    return parts


@settings(max_examples=200, deadline=None)
@given(texts)
def test_split_parts_round_trips_and_fits_the_limits(text: str) -> None:
    result = analyze(text)
    parts = split_parts(text)
    assert "".join(parts) == text
    assert len(parts) == result.parts
    if result.encoding == "gsm7":
        sizes = [len(part) + sum(part.count(char) for char in EXTENSION) for part in parts]
        limit = 160 if len(parts) == 1 else 153
    else:
        sizes = [len(part.encode("utf-16-le", "surrogatepass")) // 2 for part in parts]
        limit = 70 if len(parts) == 1 else 67
    assert all(0 < size <= limit for size in sizes)
    assert sum(sizes) == result.length


@settings(max_examples=200, deadline=None)
@given(unclustered)
def test_parts_match_a_character_by_character_count(text: str) -> None:
    assert analyze(text).parts == naive_parts(text)


@settings(max_examples=200, deadline=None)
@given(texts)
def test_encoding_is_gsm7_exactly_when_every_character_is_gsm(text: str) -> None:
    result = analyze(text)
    assert (result.encoding == "gsm7") == all(is_gsm(char) for char in text)
    assert set(result.ucs2_chars) == {char for char in text if not is_gsm(char)}


@settings(max_examples=200, deadline=None)
@given(texts)
def test_smart_replace_is_idempotent(text: str) -> None:
    once = smart_replace(text)
    assert smart_replace(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(REPLACEABLE + BASIC + EXTENSION)), max_size=200))
def test_smart_replace_of_look_alikes_and_gsm_is_gsm(text: str) -> None:
    assert analyze(smart_replace(text)).encoding == "gsm7"
