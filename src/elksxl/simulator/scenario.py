"""The simulator's scenario: accounts, prices, throughput, delivery and faults, read from JSON.

Every key is optional; a missing key takes the default shown. Unknown keys are an error, so a
typo never silently runs the default. Money is in 1/10000 of the account currency, as in the
46elks API::

    {
      "accounts": [                        # default: one account "sim"/"sim", SEK, 100000 SEK
        {"username": "sim", "password": "sim", "currency": "SEK",
         "balance": 1000000000, "displayname": "Simulated account",
         "id": "u...", "mobilenumber": "+46700000001", "email": "sim@example.invalid"}
      ],
      "prices": {"46": 3500, "+47": 5200},  # per part, by E.164 prefix: longest match wins,
                                           # '+' optional; default: made-up example figures
      "default_price": 6000,               # per part, for destinations no prefix matches
      "rate_per_minute": 100,              # per account; 0 = unlimited
      "burst": 10,                         # token bucket size: sends allowed back to back
      "over_rate": "queue",                # "queue": accept, stay "created" until its turn
                                           # "429": answer 429 with Retry-After, store nothing
      "delivery": {
        "sent_after_ms": 0,                # after its turn: status created -> sent
        "delivered_after_ms": 100,         # after sent: -> delivered / failed
        "failure_rate": 0.0,               # share of messages that end "failed" (seeded)
        "failing_numbers": [],             # these recipients always end "failed"
        "callback_retry_ms": 200,          # wait between tries of a failed delivery report
        "callback_max_tries": 5,           # the real API tries >= 5 times over >= 6 hours
        "callback_timeout_ms": 2000
      },
      "faults": {
        "seed": 0,                         # same seed -> same fault sequence
        "targets": "send",                 # "send": only sends get faults; "all": every /a1 call
        "latency": {"min_ms": 0, "max_ms": 0, "spike_rate": 0.0, "spike_ms": 0},
        "error_5xx": 0.0,                  # answer 500/502/503, empty body, nothing processed
        "drop_before": 0.0,                # drop the connection before processing: nothing stored
        "drop_after": 0.0,                 # process (store, charge), then drop: client never hears
        "callback_failure": 0.0            # a delivery report is lost: never POSTed
      }
    }

The test number ``+46700000000`` is always accepted, logged in history and free.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from hashlib import sha256
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Self

from ..errors import ConfigError

__all__ = [
    "DEFAULT_PRICES",
    "PACKAGED",
    "TEST_NUMBER",
    "Account",
    "Delivery",
    "Faults",
    "Latency",
    "Scenario",
]

TEST_NUMBER = "+46700000000"
# Made-up example figures per part (not 46elks' price list, which has no public JSON).
DEFAULT_PRICES = {
    "46": 3500,
    "47": 5200,
    "45": 4800,
    "358": 5500,
    "49": 7500,
    "44": 3900,
    "1": 1500,
}
PACKAGED = ("default", "faulty")

OverRate = Literal["queue", "429"]
Targets = Literal["send", "all"]


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(unknown)} in {where}")


def _number(data: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}.{key} must be a number >= 0, not {value!r}")
    return float(value)


def _share(data: Mapping[str, Any], key: str, where: str) -> float:
    value = _number(data, key, 0.0, where)
    if value > 1:
        raise ConfigError(f"{where}.{key} is a share between 0 and 1, not {value!r}")
    return value


def _int(data: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}.{key} must be an integer, not {value!r}")
    return value


def _text(data: Mapping[str, Any], key: str, default: str, where: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key} must be a string, not {value!r}")
    return value


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    currency: str = "SEK"
    balance: int = 1_000_000_000
    displayname: str = "Simulated account"
    id: str = ""
    mobilenumber: str = "+46700000001"
    email: str = "sim@example.invalid"

    def __post_init__(self) -> None:
        if not self.id:
            # A stable id like 46elks' "u" + 32 hex that never changes between runs.
            object.__setattr__(self, "id", "u" + sha256(self.username.encode()).hexdigest()[:32])

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Account:
        where = "accounts[]"
        _check_keys(data, set(cls.__dataclass_fields__), where)
        username = _text(data, "username", "", where)
        password = _text(data, "password", "", where)
        if not username or not password:
            raise ConfigError("every account needs a username and a password")
        return cls(
            username=username,
            password=password,
            currency=_text(data, "currency", "SEK", where),
            balance=_int(data, "balance", cls.balance, where),
            displayname=_text(data, "displayname", cls.displayname, where),
            id=_text(data, "id", "", where),
            mobilenumber=_text(data, "mobilenumber", cls.mobilenumber, where),
            email=_text(data, "email", cls.email, where),
        )


@dataclass(frozen=True)
class Latency:
    min_ms: float = 0.0
    max_ms: float = 0.0
    spike_rate: float = 0.0
    spike_ms: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Latency:
        where = "faults.latency"
        _check_keys(data, set(cls.__dataclass_fields__), where)
        low = _number(data, "min_ms", 0, where)
        high = _number(data, "max_ms", low, where)
        if high < low:
            raise ConfigError(f"{where}.max_ms must be >= min_ms")
        return cls(
            low, high, _share(data, "spike_rate", where), _number(data, "spike_ms", 0, where)
        )


@dataclass(frozen=True)
class Faults:
    seed: int = 0
    targets: Targets = "send"
    latency: Latency = field(default_factory=Latency)
    error_5xx: float = 0.0
    drop_before: float = 0.0
    drop_after: float = 0.0
    callback_failure: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Faults:
        where = "faults"
        _check_keys(data, set(cls.__dataclass_fields__), where)
        targets = data.get("targets", "send")
        if targets not in ("send", "all"):
            raise ConfigError(f'faults.targets must be "send" or "all", not {targets!r}')
        faults = cls(
            seed=_int(data, "seed", 0, where),
            targets=targets,
            latency=Latency.from_dict(data.get("latency", {})),
            error_5xx=_share(data, "error_5xx", where),
            drop_before=_share(data, "drop_before", where),
            drop_after=_share(data, "drop_after", where),
            callback_failure=_share(data, "callback_failure", where),
        )
        if faults.error_5xx + faults.drop_before + faults.drop_after > 1:
            raise ConfigError("faults.error_5xx + drop_before + drop_after must not exceed 1")
        return faults


@dataclass(frozen=True)
class Delivery:
    sent_after_ms: float = 0.0
    delivered_after_ms: float = 100.0
    failure_rate: float = 0.0
    failing_numbers: tuple[str, ...] = ()
    callback_retry_ms: float = 200.0
    callback_max_tries: int = 5
    callback_timeout_ms: float = 2000.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Delivery:
        where = "delivery"
        _check_keys(data, set(cls.__dataclass_fields__), where)
        failing = data.get("failing_numbers", [])
        if not isinstance(failing, list) or not all(isinstance(n, str) for n in failing):
            raise ConfigError("delivery.failing_numbers must be a list of E.164 strings")
        tries = _int(data, "callback_max_tries", cls.callback_max_tries, where)
        if tries < 1:
            raise ConfigError("delivery.callback_max_tries must be at least 1")
        return cls(
            sent_after_ms=_number(data, "sent_after_ms", cls.sent_after_ms, where),
            delivered_after_ms=_number(data, "delivered_after_ms", cls.delivered_after_ms, where),
            failure_rate=_share(data, "failure_rate", where),
            failing_numbers=tuple(failing),
            callback_retry_ms=_number(data, "callback_retry_ms", cls.callback_retry_ms, where),
            callback_max_tries=tries,
            callback_timeout_ms=_number(
                data, "callback_timeout_ms", cls.callback_timeout_ms, where
            ),
        )


@dataclass(frozen=True)
class Scenario:
    """Everything that makes one simulated 46elks differ from another. See the module docstring."""

    accounts: tuple[Account, ...] = (Account("sim", "sim"),)
    prices: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    default_price: int = 6000
    rate_per_minute: float = 100.0
    burst: int = 10
    over_rate: OverRate = "queue"
    delivery: Delivery = field(default_factory=Delivery)
    faults: Faults = field(default_factory=Faults)

    @classmethod
    def default(cls) -> Self:
        """One account "sim"/"sim" in SEK with 100,000 SEK; 100 SMS per minute, queued beyond."""
        return cls.from_dict({})

    @classmethod
    def load(cls, ref: str | Path) -> Self:
        """A scenario from a JSON file, or a packaged one by name ("default", "faulty")."""
        path = Path(ref)
        if path.is_file():
            return cls.from_json(path.read_text(encoding="utf-8"), source=str(path))
        if str(ref) in PACKAGED:
            folder = resources.files("elksxl.simulator").joinpath("scenarios")
            text = folder.joinpath(f"{ref}.json").read_text(encoding="utf-8")
            return cls.from_json(text, source=f"{ref}.json")
        raise ConfigError(
            f"no scenario file {str(ref)!r} (packaged scenarios: {', '.join(PACKAGED)})"
        )

    @classmethod
    def from_json(cls, text: str, *, source: str = "scenario") -> Self:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{source}: not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: a scenario is a JSON object")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        _check_keys(data, set(cls.__dataclass_fields__) | {"comment"}, "scenario")
        accounts = data.get("accounts", [{"username": "sim", "password": "sim"}])
        if not isinstance(accounts, list) or not accounts:
            raise ConfigError("scenario.accounts must be a non-empty list")
        over_rate = data.get("over_rate", "queue")
        if over_rate not in ("queue", "429"):
            raise ConfigError(f'scenario.over_rate must be "queue" or "429", not {over_rate!r}')
        burst = _int(data, "burst", 10, "scenario")
        if burst < 1:
            raise ConfigError("scenario.burst must be at least 1")
        parsed = tuple(Account.from_dict(a) for a in accounts)
        if len({a.username for a in parsed}) != len(parsed):
            raise ConfigError("scenario.accounts has the same username twice")
        return cls(
            accounts=parsed,
            prices=_prices(data.get("prices", DEFAULT_PRICES)),
            default_price=_int(data, "default_price", 6000, "scenario"),
            rate_per_minute=_number(data, "rate_per_minute", 100, "scenario"),
            burst=burst,
            over_rate=over_rate,
            delivery=Delivery.from_dict(data.get("delivery", {})),
            faults=Faults.from_dict(data.get("faults", {})),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form; ``Scenario.from_dict(s.to_dict()) == s``."""
        return {
            "accounts": [
                {name: getattr(a, name) for name in Account.__dataclass_fields__}
                for a in self.accounts
            ],
            "prices": dict(self.prices),
            "default_price": self.default_price,
            "rate_per_minute": self.rate_per_minute,
            "burst": self.burst,
            "over_rate": self.over_rate,
            "delivery": {
                name: list(v) if isinstance(v := getattr(self.delivery, name), tuple) else v
                for name in Delivery.__dataclass_fields__
            },
            "faults": {
                name: getattr(self.faults, name)
                for name in Faults.__dataclass_fields__
                if name != "latency"
            }
            | {
                "latency": {
                    name: getattr(self.faults.latency, name)
                    for name in Latency.__dataclass_fields__
                }
            },
        }

    def account(self, username: str) -> Account | None:
        return next((a for a in self.accounts if a.username == username), None)

    def price_per_part(self, e164: str) -> int:
        """Price of one part to ``e164`` by the longest matching prefix; the test number is free."""
        if e164 == TEST_NUMBER:
            return 0
        digits = e164.lstrip("+")
        for end in range(len(digits), 0, -1):
            price = self.prices.get(digits[:end])
            if price is not None:
                return price
        return self.default_price


def _prices(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ConfigError("scenario.prices must map prefixes to prices per part")
    prices: dict[str, int] = {}
    for prefix, price in value.items():
        digits = str(prefix).removeprefix("+")
        if not digits.isdigit():
            raise ConfigError(f"scenario.prices: {prefix!r} is not a calling-code prefix")
        if isinstance(price, bool) or not isinstance(price, int) or price < 0:
            raise ConfigError(f"scenario.prices[{prefix!r}] must be an integer >= 0")
        prices[digits] = price
    return prices
