"""Price tables: longest-prefix lookup, no guesses, validation of the JSON, the packaged example."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from elksxl.errors import ConfigError
from elksxl.pricing import PriceTable, comparable, format_amount, load_example, to_currency

TABLE = PriceTable.from_json(
    json.dumps(
        {
            "_comment": "test figures",
            "currency": "SEK",
            "unit": "1/10000 SEK per SMS part",
            "prices": {"46": 3500, "4670": 3000, "467012": 2000, "47": 6500, "1": 900},
        }
    ),
    source="test-prices.json",
)


def config_error(document: object, source: str = "my-prices.json") -> str:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(ConfigError) as caught:
        PriceTable.from_json(text, source=source)
    assert caught.value.file == source
    return str(caught.value)


# --- lookup -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("e164", "price"),
    [
        ("+46812345678", 3500),  # only "46" matches
        ("+46731234567", 3500),
        ("+46709876543", 3000),  # "4670" beats "46"
        ("+46701234000", 2000),  # "467012" beats "4670"
        ("+4790012345", 6500),
        ("+15551234567", 900),
        ("46709876543", 3000),  # the '+' is optional
    ],
)
def test_longest_matching_prefix_sets_the_price(e164: str, price: int) -> None:
    assert TABLE.price_per_part(e164) == price


@pytest.mark.parametrize("e164", ["+358401234567", "+4412345678", "+4"])
def test_destination_without_a_price_has_no_estimate(e164: str) -> None:
    assert TABLE.price_per_part(e164) is None
    assert TABLE.estimate(e164, 1) is None


def test_estimate_is_price_times_parts() -> None:
    assert TABLE.estimate("+46709876543", 3) == 9000
    assert TABLE.estimate("+46812345678", 0) == 0


def test_negative_parts_are_refused() -> None:
    with pytest.raises(ValueError, match="parts"):
        TABLE.estimate("+46701234567", -1)


@pytest.mark.parametrize("e164", ["", "+", "+46 70 123", "tel:+4670", "+٤٦٧٠"])
def test_a_malformed_number_is_a_programming_error(e164: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        TABLE.price_per_part(e164)


def test_to_currency_converts_ten_thousandths() -> None:
    assert to_currency(3500) == 0.35
    assert to_currency(10_000) == 1.0
    assert to_currency(0) == 0.0


def test_price_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        TABLE.prices["46"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        TABLE.currency = "EUR"  # type: ignore[misc]


def test_table_built_in_code_copies_its_prices() -> None:
    prices = {"46": 3500}
    table = PriceTable(currency="SEK", prices=prices, example=False)
    prices["46"] = 1
    assert table.price_per_part("+46701234567") == 3500


@given(
    st.dictionaries(
        st.from_regex(r"[1-9][0-9]{0,5}", fullmatch=True), st.integers(0, 10**6), min_size=1
    ),
    st.from_regex(r"[1-9][0-9]{6,14}", fullmatch=True),
)
def test_lookup_agrees_with_a_brute_force_longest_prefix(
    prices: dict[str, int], digits: str
) -> None:
    table = PriceTable(currency="SEK", prices=prices, example=False)
    matching = [p for p in prices if digits.startswith(p)]
    expected = prices[max(matching, key=len)] if matching else None
    assert table.price_per_part("+" + digits) == expected


# --- validation -------------------------------------------------------------------------------


def test_minimal_table_parses_with_example_false_by_default() -> None:
    table = PriceTable.from_json('{"currency": "eur", "prices": {"49": 700}}')
    assert table.currency == "EUR"
    assert table.example is False
    assert dict(table.prices) == {"49": 700}


def test_invalid_json_names_source_and_position() -> None:
    message = config_error('{"currency": "SEK",\n "prices": {"46": 3500,}}')
    assert message.startswith("my-prices.json: not valid JSON (line 2")


def test_top_level_must_be_an_object() -> None:
    assert "JSON object" in config_error([1, 2])


@pytest.mark.parametrize("currency", [None, "", "SE", "SEKR", "S3K", 752])
def test_currency_must_be_three_letters(currency: object) -> None:
    message = config_error({"currency": currency, "prices": {}})
    assert "'currency'" in message
    assert "three-letter" in message


@pytest.mark.parametrize("key", ["+46", "046", "46 70", "SE", "", "4" * 16])
def test_price_key_must_be_a_calling_code_prefix(key: str) -> None:
    message = config_error({"currency": "SEK", "prices": {"47": 1, key: 3500}})
    assert f"price key {key!r}" in message
    assert "digits without '+'" in message


@pytest.mark.parametrize("price", [-1, 0.35, 3500.0, "3500", True, None])
def test_price_must_be_a_non_negative_integer(price: object) -> None:
    message = config_error({"currency": "SEK", "prices": {"46": 3500, "4670": price}})
    assert "price for '4670'" in message
    assert "whole number" in message


def test_prices_must_be_an_object() -> None:
    assert "'prices' must be an object" in config_error({"currency": "SEK", "prices": [3500]})


def test_example_must_be_a_boolean() -> None:
    message = config_error({"currency": "SEK", "prices": {}, "example": "yes"})
    assert "'example' must be true or false" in message


def test_unit_must_be_text() -> None:
    assert "'unit' must be text" in config_error({"currency": "SEK", "prices": {}, "unit": 1})


def test_misspelt_key_is_refused() -> None:
    message = config_error({"currency": "SEK", "price": {"46": 3500}})
    assert "unknown key 'price'" in message


def test_zero_price_is_allowed() -> None:
    table = PriceTable.from_json('{"currency": "SEK", "prices": {"46": 0}}')
    assert table.estimate("+46701234567", 2) == 0


# --- the packaged example ---------------------------------------------------------------------


def test_example_table_loads_and_is_marked_as_example() -> None:
    table = load_example()
    assert table.example is True
    assert table.currency == "SEK"
    raw = json.loads(resources.files("elksxl.data").joinpath("prices-example.json").read_text())
    assert raw["example"] is True
    assert "EXAMPLE" in " ".join(raw["_comment"])


@pytest.mark.parametrize(
    "e164",
    [
        "+46701234567",  # SE
        "+4791234567",  # NO
        "+4520123456",  # DK
        "+358401234567",  # FI
        "+4915112345678",  # DE
        "+447700900123",  # GB
        "+48501234567",  # PL
    ],
)
def test_example_table_covers_nordic_and_european_destinations(e164: str) -> None:
    price = load_example().price_per_part(e164)
    assert price is not None
    assert 1000 <= price <= 20_000  # between 0.10 and 2 SEK per part: plausible


def test_example_table_has_no_price_for_unlisted_destinations() -> None:
    assert load_example().estimate("+819012345678", 1) is None  # Japan


# --- currencies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("estimate", "account", "expected"),
    [
        ("SEK", "SEK", True),
        ("SEK", "sek", True),
        ("SEK", " SEK ", True),
        ("SEK", "EUR", False),  # a SEK estimate is never checked against a EUR balance
        ("SEK", None, False),
        (None, "SEK", False),
        (None, None, False),
        ("", "", False),
    ],
)
def test_an_estimate_is_comparable_only_in_the_same_known_currency(
    estimate: str | None, account: str | None, expected: bool
) -> None:
    assert comparable(estimate, account) is expected


@given(st.from_regex(r"[A-Za-z]{3}", fullmatch=True), st.from_regex(r"[A-Za-z]{3}", fullmatch=True))
def test_comparable_is_symmetric_and_case_blind(first: str, second: str) -> None:
    assert comparable(first, second) == comparable(second, first)
    assert comparable(first, second) == (first.upper() == second.upper())


def test_amounts_carry_their_currency_and_unknown_is_said() -> None:
    assert format_amount(3500, "SEK") == "0.35 SEK"
    assert format_amount(123_4567, "EUR") == "123.46 EUR"
    assert format_amount(3500, None) == "0.35"
    assert format_amount(None, "SEK") == "unknown"
