"""The simulator's memory: balances, stored messages, counters, and the rules of accepting a send.

Everything here runs on the server's event loop thread; nothing is shared with other threads,
so there are no locks. Tests look at it over HTTP through the ``/__sim`` endpoints.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..encoding import analyze
from .scenario import Account, Scenario
from .throttle import Throttle

__all__ = [
    "HISTORY_LIMIT",
    "Message",
    "SendRequest",
    "SimState",
    "Stats",
    "format_time",
    "parse_send",
    "parse_time",
]

HISTORY_LIMIT = 100

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_TEXT_SENDER = re.compile(r"[A-Za-z][A-Za-z0-9]{2,10}")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def format_time(moment: datetime) -> str:
    """46elks' timestamp: UTC, microseconds, no zone suffix (``2016-10-11T13:36:13.081000``)."""
    return moment.strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime | None:
    """A naive UTC datetime from an ISO 8601 string (zone optional), or None if unreadable."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@dataclass(frozen=True, slots=True)
class SendRequest:
    """A send whose parameters passed validation."""

    sender: str
    to: str
    message: str
    dryrun: bool = False
    flash: bool = False
    dontlog: bool = False
    whendelivered: str | None = None


def _yes_no(params: Mapping[str, str], key: str) -> bool | str:
    value = params.get(key, "no").strip().lower()
    if value not in ("yes", "no"):
        return f"Invalid {key}"
    return value == "yes"


def parse_send(params: Mapping[str, str]) -> SendRequest | str:
    """Validate the parameters of ``POST /a1/sms``; return the request or the 403 error text."""
    for key in ("from", "to", "message"):
        if not params.get(key):
            return f"Missing key {key}"
    to, sender = params["to"].strip(), params["from"].strip()
    if not _E164.fullmatch(to):
        return "Invalid to number"
    if not (_E164.fullmatch(sender) or _TEXT_SENDER.fullmatch(sender)):
        return "Invalid from"
    dryrun, flash = _yes_no(params, "dryrun"), _yes_no(params, "flashsms")
    if isinstance(dryrun, str):
        return dryrun
    if isinstance(flash, str):
        return flash
    dontlog = params.get("dontlog", "")
    if dontlog not in ("", "message"):
        return "Invalid dontlog"
    url = params.get("whendelivered") or None
    if url is not None and not url.startswith(("http://", "https://")):
        return "Invalid whendelivered"
    return SendRequest(sender, to, params["message"], dryrun, flash, dontlog == "message", url)


@dataclass(slots=True)
class Message:
    """One accepted SMS. Mutable on purpose: its status moves on as the fake carrier reports."""

    id: str
    account: str
    sender: str
    to: str
    text: str
    dontlog: bool
    flash: bool
    parts: int
    cost: int
    created: datetime
    whendelivered: str | None
    status: str = "created"
    delivered: datetime | None = None

    def to_api(self) -> dict[str, Any]:
        """The shape of the POST answer, ``GET /a1/sms/{id}`` and history items."""
        body: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "from": self.sender,
            "to": self.to,
        }
        if not self.dontlog:
            body["message"] = self.text
        body["created"] = format_time(self.created)
        if self.delivered is not None:
            body["delivered"] = format_time(self.delivered)
        body |= {"direction": "outgoing", "parts": self.parts, "cost": self.cost}
        if self.dontlog:
            body["dontlog"] = "message"
        if self.flash:
            body["flashsms"] = "yes"
        return body

    def to_inspection(self) -> dict[str, Any]:
        """The shape of ``GET /__sim/messages``: everything, including what dontlog hides."""
        return {
            "id": self.id,
            "account": self.account,
            "from": self.sender,
            "to": self.to,
            "message": self.text,
            "parts": self.parts,
            "cost": self.cost,
            "created": format_time(self.created),
            "delivered": None if self.delivered is None else format_time(self.delivered),
            "status": self.status,
            "whendelivered": self.whendelivered,
            "dontlog": self.dontlog,
            "flashsms": self.flash,
            "dryrun": False,
        }


@dataclass(slots=True)
class Stats:
    """Counters shown by ``GET /__sim/stats``."""

    requests: int = 0
    sends_accepted: int = 0
    dry_runs: int = 0
    unauthorized: int = 0
    rejected: int = 0
    not_enough_credits: int = 0
    rate_limited: int = 0
    queued: int = 0
    errors_5xx: int = 0
    drops_before: int = 0
    drops_after: int = 0
    callbacks_tried: int = 0
    callbacks_succeeded: int = 0
    callbacks_failed: int = 0
    callbacks_lost: int = 0
    callbacks_abandoned: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(slots=True)
class SimState:
    """Balances, messages, throttles and seeded randomness of one simulator instance."""

    scenario: Scenario
    balances: dict[str, int] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    by_id: dict[str, Message] = field(default_factory=dict)
    stats: Stats = field(default_factory=Stats)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    throttles: dict[str, Throttle] = field(default_factory=dict)
    fault_rng: random.Random = field(init=False)
    delivery_rng: random.Random = field(init=False)
    callback_rng: random.Random = field(init=False)
    _last_created: datetime = field(default=datetime.min)

    def __post_init__(self) -> None:
        seed = self.scenario.faults.seed
        # Separate streams, so callbacks happening in between never shift the request faults.
        self.fault_rng = random.Random(f"requests-{seed}")
        self.delivery_rng = random.Random(f"delivery-{seed}")
        self.callback_rng = random.Random(f"callbacks-{seed}")
        for account in self.scenario.accounts:
            self.balances[account.username] = account.balance
            self.throttles[account.username] = Throttle(
                self.scenario.rate_per_minute, self.scenario.burst
            )

    def authenticate(self, header: str | None) -> Account | None:
        """The account whose HTTP Basic credentials ``header`` carries, or None."""
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, _, password = decoded.partition(":")
        account = self.scenario.account(username)
        if account is None or not secrets.compare_digest(account.password, password):
            return None
        return account

    def next_created(self) -> datetime:
        """Now in UTC, bumped by 1 µs on a tie so history paging never skips or repeats."""
        now = datetime.now(UTC).replace(tzinfo=None)
        if now <= self._last_created:
            now = self._last_created + timedelta(microseconds=1)
        self._last_created = now
        return now

    def quote(self, request: SendRequest) -> tuple[int, int]:
        """(parts, cost) of a send, by GSM 03.38 parts and the scenario's price per part."""
        parts = analyze(request.message).parts
        return parts, parts * self.scenario.price_per_part(request.to)

    def store(self, account: Account, request: SendRequest, parts: int, cost: int) -> Message:
        """Charge the account and keep the message; the caller checked the balance."""
        self.balances[account.username] -= cost
        message = Message(
            id="s" + secrets.token_hex(16),
            account=account.username,
            sender=request.sender,
            to=request.to,
            text=request.message,
            dontlog=request.dontlog,
            flash=request.flash,
            parts=parts,
            cost=cost,
            created=self.next_created(),
            whendelivered=request.whendelivered,
        )
        self.messages.append(message)
        self.by_id[message.id] = message
        self.stats.sends_accepted += 1
        return message

    def history(
        self,
        account: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        to: str | None = None,
        limit: int = HISTORY_LIMIT,
    ) -> tuple[list[Message], datetime | None]:
        """Newest first: created < start, created >= end; plus the ``next`` start if more exist."""
        page: list[Message] = []
        # self.messages is in strictly increasing ``created`` order, so walk it backwards.
        for message in reversed(self.messages):
            if start is not None and message.created >= start:
                continue
            if end is not None and message.created < end:
                break
            if message.account != account or (to is not None and message.to != to):
                continue
            if len(page) == limit:
                return page, page[-1].created
            page.append(message)
        return page, None
