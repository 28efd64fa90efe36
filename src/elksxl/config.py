"""Settings, read once at the edge from an environment mapping; secrets are masked in every repr."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Self

import platformdirs

from .errors import ConfigError

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_CALLBACK_ALLOW",
    "DEFAULT_RATE_PER_MINUTE",
    "Secret",
    "Settings",
    "check_rate",
    "default_journal_path",
    "validate_sender",
]

DEFAULT_API_URL = "https://api.46elks.com/a1"
DEFAULT_RATE_PER_MINUTE = 100.0
# 46elks' delivery-report callers (../shared/reference/46elks-api.md, section 3).
DEFAULT_CALLBACK_ALLOW = (
    "176.10.154.199",
    "85.24.146.132",
    "185.39.146.243",
    "2001:9b0:2:902::199",
)

_TEXT_SENDER = re.compile(r"[A-Za-z][A-Za-z0-9]{2,10}")
_NUMBER_SENDER = re.compile(r"\+[1-9][0-9]{6,14}")


class Secret:
    """A string that never shows itself in a repr, str or f-string."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def validate_sender(sender: str) -> str:
    """Return ``sender`` if 46elks accepts it as ``from``, else raise ConfigError saying why."""
    if _NUMBER_SENDER.fullmatch(sender) or _TEXT_SENDER.fullmatch(sender):
        return sender
    raise ConfigError(
        f"invalid sender {sender!r}: use an E.164 number such as +46701234567, or 3-11 letters "
        "and digits (A-Z, a-z, 0-9) that do not start with a digit, such as MyShop"
    )


def check_rate(rate: float, *, source: str = "the rate") -> float:
    """``rate`` if it is a usable number of messages per minute (0: no limit), else ConfigError."""
    if not math.isfinite(rate) or rate < 0:
        raise ConfigError(
            f"{source} must be a number of messages per minute, 0 or more (0: no limit), "
            f"not {rate!r}"
        )
    return rate


def default_journal_path() -> Path:
    """journal.sqlite3 under the user's state directory."""
    return Path(platformdirs.user_state_dir("elksxl")) / "journal.sqlite3"


@dataclass(frozen=True)
class Settings:
    """Everything configurable, in one frozen object. Build it with :meth:`from_env`."""

    username: str = ""
    password: Secret = field(default_factory=lambda: Secret(""))
    api_urls: tuple[str, ...] = (DEFAULT_API_URL,)
    sender: str | None = None
    region: str = "SE"
    rate_per_minute: float = DEFAULT_RATE_PER_MINUTE
    timeout: float = 15.0
    token: Secret = field(default_factory=lambda: Secret(""))
    journal_path: Path = field(default_factory=default_journal_path)
    prices_path: Path | None = None  # None: the packaged example prices
    # `elksxl serve`: the https origin Excel and 46elks reach it at; delivery reports.
    public_url: str | None = None
    callback_secret: Secret = field(default_factory=lambda: Secret(""))
    callback_allow: tuple[str, ...] = DEFAULT_CALLBACK_ALLOW
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_rate(self.rate_per_minute)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        urls = tuple(
            u.strip().rstrip("/")
            for u in environ.get("ELKS_API_URL", DEFAULT_API_URL).split(",")
            if u.strip()
        )
        rate = environ.get("ELKSXL_RATE")
        try:
            rate_value = float(rate) if rate else DEFAULT_RATE_PER_MINUTE
        except ValueError:
            raise ConfigError(
                f"ELKSXL_RATE={rate!r} is not a number of messages per minute"
            ) from None
        check_rate(rate_value, source=f"ELKSXL_RATE={rate!r}")
        journal = environ.get("ELKSXL_JOURNAL")
        allow = _split(environ.get("ELKSXL_CALLBACK_ALLOW"))
        return cls(
            username=environ.get("ELKS_USERNAME", ""),
            password=Secret(environ.get("ELKS_PASSWORD", "")),
            api_urls=urls or (DEFAULT_API_URL,),
            sender=environ.get("ELKS_FROM") or None,
            region=(environ.get("ELKSXL_REGION") or "SE").upper(),
            rate_per_minute=rate_value,
            token=Secret(environ.get("ELKSXL_TOKEN", "")),
            journal_path=Path(journal) if journal else default_journal_path(),
            public_url=(environ.get("ELKSXL_PUBLIC_URL") or "").rstrip("/") or None,
            callback_secret=Secret(environ.get("ELKSXL_CALLBACK_SECRET", "")),
            callback_allow=allow if allow else DEFAULT_CALLBACK_ALLOW,
            trusted_proxies=_split(environ.get("ELKSXL_TRUSTED_PROXIES")),
        )

    def with_changes(self, **changes: object) -> Self:
        """A copy with some fields replaced (None values are ignored); checked like the original."""
        if isinstance(changes.get("region"), str):
            changes["region"] = str(changes["region"]).upper()
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    def require_credentials(self) -> None:
        """Raise ConfigError naming the missing variables, before anything is sent."""
        missing = [
            name
            for name, value in (("ELKS_USERNAME", self.username), ("ELKS_PASSWORD", self.password))
            if not value
        ]
        if missing:
            raise ConfigError(
                f"missing 46elks credentials: set {' and '.join(missing)} "
                "(API username and password from the 46elks dashboard)"
            )


def _split(value: str | None) -> tuple[str, ...]:
    """A comma-separated setting as its stripped, non-empty items."""
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())
