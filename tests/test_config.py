"""Settings read once from the environment, checked before anything happens."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from elksxl.config import Settings, validate_sender
from elksxl.errors import ConfigError


@pytest.mark.parametrize(
    ("sender", "why"),
    [
        ("My Shop", "not ' '"),
        ("AB", "at least 3 characters"),
        ("VeryLongSenderName", "at most 11 characters, not 18"),
        ("1abc", "must not start with a digit"),
        ("0701234567", "must start with + and its country code"),
        ("+4670", "7 to 15 digits"),
        ("+46a70123456", "only digits after the +"),
        ("Åsa", "not 'Å'"),
    ],
)
def test_an_invalid_sender_is_told_which_rule_it_broke(sender: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_sender(sender)
    assert why in str(caught.value)
    assert "such as MyShop" in str(caught.value)


@pytest.mark.parametrize("sender", ["MyShop", "Elks46", "+46701234567"])
def test_a_valid_sender_is_kept(sender: str) -> None:
    assert validate_sender(sender) == sender


@pytest.mark.parametrize("rate", ["nan", "-5", "inf", "fast"])
def test_a_rate_from_the_environment_must_be_a_usable_number(rate: str) -> None:
    with pytest.raises(ConfigError, match="messages per minute"):
        Settings.from_env({"ELKSXL_RATE": rate})


@pytest.mark.parametrize("rate", [math.nan, -1.0])
def test_a_rate_given_on_the_command_line_is_checked_too(rate: float) -> None:
    with pytest.raises(ConfigError, match="messages per minute"):
        Settings.from_env({}).with_changes(rate_per_minute=rate)


def test_everything_is_read_from_the_environment_given(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ELKS_USERNAME": "u1",
            "ELKS_PASSWORD": "secret-pw",
            "ELKS_API_URL": "http://127.0.0.1:1/a1, http://127.0.0.1:2/a1/",
            "ELKSXL_RATE": "0",
            "ELKSXL_REGION": "no",
            "ELKSXL_JOURNAL": str(tmp_path / "j.sqlite3"),
        }
    )
    assert settings.api_urls == ("http://127.0.0.1:1/a1", "http://127.0.0.1:2/a1")
    assert (settings.rate_per_minute, settings.region) == (0, "NO")
    assert settings.journal_path == tmp_path / "j.sqlite3"
    assert "secret-pw" not in repr(settings)
