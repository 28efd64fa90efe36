"""Writing a message in the pane: the live counter, the UCS-2 characters and the one-click
GSM look-alikes, templates, and the custom functions runtime."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import OpenPane, workbook

CONTACTS = [["Namn", "Telefon"], ["Anna", "070-123 45 67"]]


def test_typing_a_message_shows_encoding_characters_and_parts(open_pane: OpenPane) -> None:
    pane = open_pane(workbook(CONTACTS))
    page = pane.page
    message = page.get_by_label("Message", exact=True)
    message.fill("Hej Anna")
    expect(page.locator("#counter")).to_have_text("GSM-7 · 8 characters · 1 part")
    message.fill("x" * 161)
    expect(page.locator("#counter")).to_have_text("GSM-7 · 161 characters · 2 parts")
    pane.screenshot("compose-two-parts")


def test_a_curly_quote_forces_unicode_and_the_look_alike_button_fixes_it(
    open_pane: OpenPane,
) -> None:
    pane = open_pane(workbook(CONTACTS))
    page = pane.page
    message = page.get_by_label("Message", exact=True)
    message.fill("Hej, vi ses på måndag – det är ”viktigt” " + "x" * 40)
    expect(page.locator("#counter")).to_contain_text("UCS-2")
    expect(page.locator("#ucs2 code")).to_have_text(["–", "”"])
    pane.screenshot("compose-ucs2")
    page.get_by_role("button", name="Use GSM look-alikes").click()
    expect(page.locator("#counter")).to_contain_text("GSM-7")
    assert message.input_value() == 'Hej, vi ses på måndag - det är "viktigt" ' + "x" * 40
    expect(page.locator("#ucs2")).to_be_hidden()


def test_picking_a_template_fills_the_message(open_pane: OpenPane) -> None:
    pane = open_pane(workbook(CONTACTS))
    page = pane.page
    options = page.locator("#template option").all_text_contents()
    assert len(options) > 1, "the repository's templates/ should be offered"
    page.get_by_label("Template").select_option(label=options[1])
    expect(page.get_by_label("Message", exact=True)).not_to_have_value("")
    expect(page.locator("#counter")).to_contain_text("part")


def test_custom_functions_are_answered_in_one_batched_request(open_pane: OpenPane) -> None:
    pane = open_pane(workbook(CONTACTS))
    page = pane.page
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.url.endswith("/api/functions") else None)
    results = page.evaluate(
        """() => Promise.all([
            elksxl.functions.E164("070-123 45 67"),
            elksxl.functions.VALID("070-123 45 67", "SE"),
            elksxl.functions.VALID("12", null),
            elksxl.functions.PARTS("x".repeat(161)),
            elksxl.functions.ENCODING("Hej ”du”"),
        ])"""
    )
    assert results == ["+46701234567", True, False, 2, "ucs2"]
    assert len(posts) == 1


def test_a_custom_function_error_becomes_an_error_not_a_value(open_pane: OpenPane) -> None:
    pane = open_pane(workbook(CONTACTS))
    message = pane.page.evaluate(
        "() => elksxl.functions.E164('not a number').then(() => 'no error', e => e.message)"
    )
    assert message != "no error"
    assert message


def test_the_pane_works_from_the_keyboard_alone(open_pane: OpenPane) -> None:
    pane = open_pane(workbook(CONTACTS))
    page = pane.page
    page.get_by_label("Message", exact=True).focus()
    page.keyboard.type("Hej {{ Namn }}")
    for _ in range(6):  # sender, its help text is not focusable, two switches, Preview
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "preview-button":
            break
    assert page.evaluate("() => document.activeElement.id") == "preview-button"
    page.keyboard.press("Enter")
    expect(page.locator("#messages .text")).to_have_text(["Hej Anna"])
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send 1 message")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Yes, send")).to_be_focused()


def test_an_engine_without_fetch_gets_a_clear_message_instead_of_a_blank_pane(
    open_pane: OpenPane,
) -> None:
    pane = open_pane(workbook(CONTACTS))
    page = pane.page
    page.context.add_init_script("delete window.fetch;")
    page.reload()
    expect(page.get_by_role("alert")).to_contain_text("old browser engine")
    expect(page.get_by_label("Message", exact=True)).to_be_hidden()
