"""The SQLite journal, on real files: schema, idempotency, the state machine, durability."""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from elksxl.config import Secret
from elksxl.errors import ElksxlError
from elksxl.journal import (
    SCHEMA_VERSION,
    SETTLED,
    IllegalTransitionError,
    Journal,
    JournalError,
    PlannedMessage,
    State,
    message_key,
)

CAMPAIGN = "campaign-1"
AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite"


@pytest.fixture
def journal(journal_path: Path) -> Iterator[Journal]:
    with Journal.open(journal_path) as opened:
        opened.ensure_campaign(
            CAMPAIGN, source="book.xlsx", sheet="Kunder", sender="MyShop", options={"rate": 100}
        )
        yield opened


def plan(journal: Journal, count: int = 1, campaign: str = CAMPAIGN) -> list[str]:
    """Add ``count`` planned messages (rows 2, 3, ...) and return their keys in row order."""
    messages = [
        PlannedMessage(row=2 + i, to=f"+467012{i:05d}", text=f"Hej {i}") for i in range(count)
    ]
    journal.add_planned(campaign, messages)
    return [message_key(campaign, m.row, m.to, m.text) for m in messages]


def state_of(journal: Journal, key: str) -> State:
    entry = journal.entry(key)
    assert entry is not None
    return entry.state


# -- schema and file ---------------------------------------------------------------------------


def test_open_creates_directories_schema_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "journal.sqlite"
    Journal.open(path).close()

    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        names = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    finally:
        raw.close()
    assert {"campaigns", "messages", "messages_campaign_state", "messages_campaign_row"} <= names


def test_connection_syncs_every_commit_and_enforces_foreign_keys(journal: Journal) -> None:
    conn = journal._conn  # the settings are per connection, so they are read where they live
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_schema_has_no_column_that_could_hold_credentials(journal_path: Path) -> None:
    Journal.open(journal_path).close()
    raw = sqlite3.connect(journal_path)
    try:
        columns = [
            column[1]
            for table in ("campaigns", "messages")
            for column in raw.execute(f"PRAGMA table_info({table})")
        ]
    finally:
        raw.close()
    assert columns
    for column in columns:
        assert not any(word in column for word in ("pass", "user", "secret", "token", "auth"))


def test_reopening_an_existing_journal_keeps_the_schema_version(journal_path: Path) -> None:
    Journal.open(journal_path).close()
    with Journal.open(journal_path) as again:
        assert again.campaigns() == []
    raw = sqlite3.connect(journal_path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()


# The schema of version 1 as it shipped, so the test does not depend on today's migrations.
V1_SCHEMA = """
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, sheet TEXT NOT NULL, sender TEXT NOT NULL,
    options TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE messages (
    key TEXT PRIMARY KEY,
    campaign TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    "row" INTEGER NOT NULL, "to" TEXT NOT NULL, text TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('planned', 'in_flight', 'sent', 'rejected',
        'unknown', 'delivered', 'failed', 'not_sent')),
    attempts INTEGER NOT NULL DEFAULT 0, elks_id TEXT UNIQUE, parts INTEGER, cost INTEGER,
    error TEXT, planned_at TEXT NOT NULL, attempted_at TEXT, settled_at TEXT,
    delivered_at TEXT, updated_at TEXT NOT NULL
);
CREATE INDEX messages_campaign_state ON messages (campaign, state);
CREATE INDEX messages_campaign_row ON messages (campaign, "row");
PRAGMA user_version = 1;
"""


def test_a_version_1_journal_is_migrated_and_keeps_every_message(journal_path: Path) -> None:
    at = AT.isoformat(timespec="microseconds")
    messages = [
        (2, "+46701234567", "Hej Anna", "sent", "s1", 1, 3500),
        (3, "+46701234568", "Hej Bo", "unknown", None, 1, None),
        (4, "+46701234569", "Hej Cecilia", "planned", None, 0, None),
    ]
    raw = sqlite3.connect(journal_path)
    raw.executescript(V1_SCHEMA)
    with raw:
        raw.execute(
            "INSERT INTO campaigns VALUES (?, 'old.xlsx', 'Kunder', 'MyShop', ?, ?, ?)",
            (CAMPAIGN, '{"rate": 60}', at, at),
        )
        raw.executemany(
            'INSERT INTO messages (key, campaign, "row", "to", text, state, elks_id, attempts,'
            " cost, planned_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (message_key(CAMPAIGN, row, to, text), CAMPAIGN, row, to, text, *rest, at, at)
                for row, to, text, *rest in messages
            ],
        )
    raw.close()

    with Journal.open(journal_path) as journal:
        campaign = journal.campaign(CAMPAIGN)
        entries = journal.entries(CAMPAIGN)
        journal.ensure_campaign(
            CAMPAIGN, source="old.xlsx", sheet="Kunder", sender="MyShop", options={}, currency="SEK"
        )
        recorded = journal.campaign(CAMPAIGN)

    assert campaign is not None
    assert (campaign.source, dict(campaign.options), campaign.created_at) == (
        "old.xlsx",
        {"rate": 60},
        AT,
    )
    assert (campaign.currency, campaign.message) == (None, None)
    assert [(e.row, e.to, e.text, e.state, e.elks_id, e.attempts, e.cost) for e in entries] == [
        (row, to, text, State(state), *rest) for row, to, text, state, *rest in messages
    ]
    assert [e.key for e in entries] == [message_key(CAMPAIGN, *m[:3]) for m in messages]
    assert recorded is not None
    assert recorded.currency == "SEK"
    raw = sqlite3.connect(journal_path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    finally:
        raw.close()


def test_open_refuses_a_journal_from_a_newer_elksxl(journal_path: Path) -> None:
    Journal.open(journal_path).close()
    raw = sqlite3.connect(journal_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(JournalError, match="newer"):
        Journal.open(journal_path)


def test_open_refuses_a_file_that_is_not_a_database(journal_path: Path) -> None:
    journal_path.write_bytes(b"PK\x03\x04 this is a workbook, not a journal" * 100)
    with pytest.raises(JournalError, match="not an elksxl journal"):
        Journal.open(journal_path)


def test_journal_errors_belong_to_the_elksxl_tree() -> None:
    assert issubclass(JournalError, ElksxlError)
    assert issubclass(IllegalTransitionError, JournalError)


# -- keys, campaigns, planning -----------------------------------------------------------------


def test_message_key_is_a_stable_sha256_of_campaign_row_recipient_and_text() -> None:
    key = message_key("campaign-1", 2, "+46701234567", "Hej Anna!")
    # Pinned: a changed key would make a resume treat sent messages as new ones.
    assert key == "dedd2c50c4e19ad8422a4ed3dd30c8241d015cf4ae115759842c79406f891f0e"
    payload = b'["campaign-1",2,"+46701234567","Hej Anna!"]'
    assert key == hashlib.sha256(payload).hexdigest()


def test_message_key_cannot_be_faked_by_moving_text_between_fields() -> None:
    assert message_key("c", 2, "+4670", "1 hi") != message_key("c", 2, "+46701", " hi")
    assert message_key("c", 2, "+4670", "hi") != message_key("c", 3, "+4670", "hi")
    assert message_key("c1", 2, "+4670", "hi") != message_key("c", 12, "+4670", "hi")


def test_add_planned_is_idempotent(journal: Journal) -> None:
    messages = [PlannedMessage(2, "+46701234567", "Hej"), PlannedMessage(3, "+46701234568", "Hi")]
    assert journal.add_planned(CAMPAIGN, messages) == 2
    assert journal.add_planned(CAMPAIGN, messages) == 0
    assert journal.add_planned(CAMPAIGN, [messages[0], messages[0]]) == 0
    assert [e.row for e in journal.entries(CAMPAIGN)] == [2, 3]


def test_add_planned_leaves_a_known_message_in_its_state(journal: Journal) -> None:
    (key,) = plan(journal)
    journal.mark_in_flight(key)
    assert plan(journal) == [key]
    assert state_of(journal, key) is State.IN_FLIGHT


def test_add_planned_needs_a_recorded_campaign(journal: Journal) -> None:
    with pytest.raises(JournalError, match="ensure_campaign"):
        journal.add_planned("nope", [PlannedMessage(2, "+46701234567", "Hej")])


def test_add_planned_takes_a_hundred_thousand_messages(journal: Journal) -> None:
    messages = (PlannedMessage(i + 2, f"+4670{i:07d}", f"Hej kund {i}") for i in range(100_000))
    assert journal.add_planned(CAMPAIGN, messages) == 100_000
    assert journal.counts(CAMPAIGN)[State.PLANNED] == 100_000


def test_entries_come_in_row_order_and_filter_by_state(journal: Journal) -> None:
    journal.add_planned(
        CAMPAIGN, [PlannedMessage(row, f"+4670123456{row}", "Hej") for row in (7, 3, 5)]
    )
    by_row = journal.entries(CAMPAIGN)
    assert [e.row for e in by_row] == [3, 5, 7]
    journal.mark_in_flight(by_row[1].key)
    assert [e.row for e in journal.entries(CAMPAIGN, {State.IN_FLIGHT})] == [5]
    assert [e.row for e in journal.entries(CAMPAIGN, [State.PLANNED])] == [3, 7]
    assert journal.entries(CAMPAIGN, []) == []
    assert journal.entries("another campaign") == []


def test_a_new_entry_is_planned_with_its_details(journal: Journal) -> None:
    before = datetime.now(UTC)
    journal.add_planned(CAMPAIGN, [PlannedMessage(4, "+46701234567", "Hej Åsa 👋")])
    (entry,) = journal.entries(CAMPAIGN)
    assert entry.key == message_key(CAMPAIGN, 4, "+46701234567", "Hej Åsa 👋")
    assert (entry.campaign, entry.row, entry.to, entry.text) == (
        CAMPAIGN,
        4,
        "+46701234567",
        "Hej Åsa 👋",
    )
    assert (entry.state, entry.attempts, entry.elks_id, entry.error) == (
        State.PLANNED,
        0,
        None,
        None,
    )
    assert entry.planned_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= entry.planned_at <= datetime.now(UTC)
    assert entry.attempted_at is entry.settled_at is entry.delivered_at is None


def test_ensure_campaign_refreshes_details_and_keeps_the_creation_time(journal: Journal) -> None:
    (first,) = journal.campaigns()
    journal.ensure_campaign(
        CAMPAIGN, source="book.xlsx", sheet="Kunder", sender="Other", options={"rate": 50}
    )
    (again,) = journal.campaigns()
    assert (again.id, again.sender, dict(again.options)) == (CAMPAIGN, "Other", {"rate": 50})
    assert again.created_at == first.created_at
    assert again.updated_at >= first.updated_at


def test_campaign_records_currency_and_message_when_given_and_keeps_them_otherwise(
    journal: Journal,
) -> None:
    fresh = journal.campaign(CAMPAIGN)
    assert fresh is not None
    assert (fresh.currency, fresh.message) == (None, None)

    journal.ensure_campaign(
        CAMPAIGN, source="book.xlsx", sheet="Kunder", sender="MyShop", options={}, currency="SEK"
    )
    journal.ensure_campaign(
        CAMPAIGN, source="book.xlsx", sheet="Kunder", sender="MyShop", options={}, message="Hej {x}"
    )
    journal.ensure_campaign(
        CAMPAIGN, source="book.xlsx", sheet="Kunder", sender="MyShop", options={}
    )
    kept = journal.campaign(CAMPAIGN)
    assert kept is not None
    assert (kept.currency, kept.message) == ("SEK", "Hej {x}")

    journal.ensure_campaign(
        CAMPAIGN, source="b", sheet="S", sender="MyShop", options={}, currency="EUR", message="Hi"
    )
    (updated,) = journal.campaigns()
    assert (updated.currency, updated.message) == ("EUR", "Hi")


def test_campaign_is_none_for_an_id_the_journal_lacks(journal: Journal) -> None:
    assert journal.campaign("no-such-campaign") is None


def test_campaigns_are_listed_oldest_first(journal: Journal) -> None:
    journal.ensure_campaign("campaign-2", source="b.xlsx", sheet="S", sender="Me", options={})
    assert [c.id for c in journal.campaigns()] == [CAMPAIGN, "campaign-2"]


@pytest.mark.parametrize(
    "options",
    [
        {"password": "hunter2"},
        {"ELKS_USERNAME": "u123"},
        {"client": {"api_key": "x"}},
        {"headers": [{"Authorization": "Basic abc"}]},
        {"ELKSXL_TOKEN": "t"},
    ],
)
def test_ensure_campaign_refuses_options_that_look_like_credentials(
    journal: Journal, options: dict[str, object]
) -> None:
    with pytest.raises(JournalError, match="credentials"):
        journal.ensure_campaign("c2", source="b", sheet="s", sender="Me", options=options)
    assert [c.id for c in journal.campaigns()] == [CAMPAIGN]


def test_ensure_campaign_refuses_options_that_are_not_plain_json(journal: Journal) -> None:
    with pytest.raises(JournalError, match="JSON"):
        journal.ensure_campaign(
            "c2", source="b", sheet="s", sender="Me", options={"key": Secret("x")}
        )


# -- the state machine -------------------------------------------------------------------------

Step = Callable[[Journal, str], object]

STEPS: dict[str, Step] = {
    "in_flight": lambda j, k: j.mark_in_flight(k),
    "sent": lambda j, k: j.mark_sent(k, elks_id="s" + k[:32], parts=1, cost=3500, at=AT),
    "rejected": lambda j, k: j.mark_rejected(k, "Invalid to number"),
    "unknown": lambda j, k: j.mark_unknown(k, "connection lost"),
    "not_sent": lambda j, k: j.mark_not_sent([k], "out of credits"),
    "planned": lambda j, k: j.mark_planned([k]),
    "delivered": lambda j, k: j.mark_delivery("s" + k[:32], "delivered", AT),
    "failed": lambda j, k: j.mark_delivery("s" + k[:32], "failed", None),
}


def walk(journal: Journal, key: str, history: str) -> None:
    for step in history.split():
        STEPS[step](journal, key)
        assert state_of(journal, key) == step


@pytest.mark.parametrize(
    "history",
    [
        "in_flight sent delivered",
        "in_flight sent failed",
        "in_flight rejected",
        "in_flight unknown in_flight sent",  # reconciled: absent, sent again
        "in_flight unknown unknown sent",  # reconciled: found in the history
        "sent",  # reconciled from planned
        "in_flight planned in_flight sent",  # 429: provably not processed
        "in_flight unknown planned in_flight rejected",
        "not_sent not_sent planned in_flight sent",  # out of credits, then a resume
        "in_flight not_sent",
        "planned in_flight",
    ],
)
def test_legal_transitions_are_recorded(journal: Journal, history: str) -> None:
    (key,) = plan(journal)
    walk(journal, key, history)


@pytest.mark.parametrize(
    ("history", "illegal"),
    [
        ("", "rejected"),
        ("", "unknown"),
        ("", "delivered"),
        ("in_flight", "in_flight"),
        ("in_flight sent", "in_flight"),
        ("in_flight sent", "sent"),
        ("in_flight sent", "planned"),
        ("in_flight sent", "not_sent"),
        ("in_flight sent", "unknown"),
        ("in_flight sent delivered", "sent"),
        ("in_flight sent failed", "planned"),
        ("in_flight rejected", "in_flight"),
        ("in_flight rejected", "sent"),
        ("in_flight rejected", "planned"),
        ("in_flight unknown", "not_sent"),
        ("in_flight unknown", "rejected"),
        ("not_sent", "in_flight"),
        ("not_sent", "sent"),
    ],
)
def test_illegal_transitions_raise_and_change_nothing(
    journal: Journal, history: str, illegal: str
) -> None:
    (key,) = plan(journal)
    walk(journal, key, history)
    before = journal.entry(key)
    assert before is not None

    if illegal in ("delivered", "failed"):
        # A delivery report never raises (a webhook must answer 200); it just changes nothing.
        STEPS[illegal](journal, key)
    else:
        with pytest.raises(IllegalTransitionError, match="row 2") as raised:
            STEPS[illegal](journal, key)
        assert raised.value.state is before.state
        assert raised.value.key == key
    assert journal.entry(key) == before


def test_settled_states_are_the_ones_never_sent_again() -> None:
    assert {State.SENT, State.REJECTED, State.DELIVERED, State.FAILED} == SETTLED


def test_marking_an_unknown_key_raises(journal: Journal) -> None:
    with pytest.raises(JournalError, match="no message") as raised:
        journal.mark_in_flight("0" * 64)
    assert not isinstance(raised.value, IllegalTransitionError)
    with pytest.raises(JournalError, match="no message"):
        journal.mark_planned(["0" * 64])


def test_mark_in_flight_counts_attempts_and_stamps_the_time(journal: Journal) -> None:
    (key,) = plan(journal)
    assert journal.mark_in_flight(key) == 1
    journal.mark_unknown(key, "timeout")
    assert journal.mark_in_flight(key) == 2
    entry = journal.entry(key)
    assert entry is not None
    assert entry.attempts == 2
    assert entry.attempted_at is not None
    assert entry.attempted_at.tzinfo is not None


def test_mark_sent_records_the_sms_and_clears_the_error(journal: Journal) -> None:
    (key,) = plan(journal)
    journal.mark_in_flight(key)
    journal.mark_unknown(key, "timeout")
    journal.mark_sent(key, elks_id="s1", parts=2, cost=7000, at=datetime(2024, 5, 1, 9, 30))
    entry = journal.entry(key)
    assert entry is not None
    assert (entry.state, entry.elks_id, entry.parts, entry.cost, entry.error) == (
        State.SENT,
        "s1",
        2,
        7000,
        None,
    )
    assert entry.settled_at == AT  # a naive time from 46elks is UTC


def test_mark_sent_refuses_an_sms_id_that_belongs_to_another_message(journal: Journal) -> None:
    first, second = plan(journal, 2)
    for key in (first, second):
        journal.mark_in_flight(key)
    journal.mark_sent(first, elks_id="s1", parts=1, cost=3500, at=AT)
    with pytest.raises(JournalError, match="row 2"):
        journal.mark_sent(second, elks_id="s1", parts=1, cost=3500, at=AT)
    assert state_of(journal, second) is State.IN_FLIGHT


def test_rejected_and_not_sent_keep_the_reason(journal: Journal) -> None:
    first, second = plan(journal, 2)
    journal.mark_in_flight(first)
    journal.mark_rejected(first, "Invalid to number")
    journal.mark_not_sent([second], "out of credits")
    entries = journal.entries(CAMPAIGN)
    assert [(e.state, e.error) for e in entries] == [
        (State.REJECTED, "Invalid to number"),
        (State.NOT_SENT, "out of credits"),
    ]
    assert entries[0].settled_at is not None
    journal.mark_planned([second])
    assert journal.entries(CAMPAIGN)[1].error is None


def test_batch_marks_are_all_or_nothing(journal: Journal) -> None:
    keys = plan(journal, 3)
    journal.mark_in_flight(keys[1])
    journal.mark_rejected(keys[1], "no")
    with pytest.raises(IllegalTransitionError, match="row 3"):
        journal.mark_not_sent(keys, "out of credits")
    assert [e.state for e in journal.entries(CAMPAIGN)] == [
        State.PLANNED,
        State.REJECTED,
        State.PLANNED,
    ]


def test_batch_marks_accept_repeated_keys(journal: Journal) -> None:
    keys = plan(journal, 2)
    journal.mark_not_sent([*keys, *keys], "out of credits")
    assert journal.counts(CAMPAIGN)[State.NOT_SENT] == 2
    journal.mark_planned(iter(keys))
    assert journal.counts(CAMPAIGN)[State.PLANNED] == 2


# -- delivery reports --------------------------------------------------------------------------


def sent_message(journal: Journal, elks_id: str = "s1") -> str:
    (key,) = plan(journal)
    journal.mark_in_flight(key)
    journal.mark_sent(key, elks_id=elks_id, parts=1, cost=3500, at=AT)
    return key


def test_mark_delivery_settles_a_sent_message(journal: Journal) -> None:
    sent_message(journal)
    entry = journal.mark_delivery("s1", "delivered", AT + timedelta(seconds=5))
    assert entry is not None
    assert entry.state is State.DELIVERED
    assert entry.delivered_at == AT + timedelta(seconds=5)


def test_mark_delivery_is_idempotent_for_duplicate_reports(journal: Journal) -> None:
    sent_message(journal)
    first = journal.mark_delivery("s1", "delivered", AT + timedelta(seconds=5))
    again = journal.mark_delivery("s1", "delivered", AT + timedelta(hours=6))
    assert first == again
    assert again is not None
    assert again.delivered_at == AT + timedelta(seconds=5)


@pytest.mark.parametrize("final", ["delivered", "failed"])
@pytest.mark.parametrize("late", ["sent", "created", "delivered", "failed", "some new status"])
def test_mark_delivery_never_changes_a_final_state(journal: Journal, final: str, late: str) -> None:
    sent_message(journal)
    settled = journal.mark_delivery("s1", final, AT)
    assert journal.mark_delivery("s1", late, AT + timedelta(minutes=1)) == settled
    assert journal.by_elks_id("s1") == settled


def test_a_failed_report_records_when_it_failed(journal: Journal) -> None:
    sent_message(journal)
    entry = journal.mark_delivery("s1", "failed", AT)
    assert entry is not None
    assert entry.state is State.FAILED
    assert entry.delivered_at == AT


def test_mark_delivery_sent_report_keeps_a_sent_message_sent(journal: Journal) -> None:
    key = sent_message(journal)
    entry = journal.mark_delivery("s1", "sent", None)
    assert entry == journal.entry(key)
    assert entry is not None
    assert entry.state is State.SENT


def test_mark_delivery_accepts_status_in_any_case_and_defaults_the_time(journal: Journal) -> None:
    sent_message(journal)
    before = datetime.now(UTC)
    entry = journal.mark_delivery("s1", " Delivered ", None)
    assert entry is not None
    assert entry.state is State.DELIVERED
    assert entry.delivered_at is not None
    assert before - timedelta(seconds=1) <= entry.delivered_at <= datetime.now(UTC)


def test_mark_delivery_for_an_unknown_sms_id_returns_none(journal: Journal) -> None:
    sent_message(journal)
    assert journal.mark_delivery("s-other", "delivered", AT) is None


def test_by_elks_id_finds_the_message(journal: Journal) -> None:
    key = sent_message(journal, "s0123")
    entry = journal.by_elks_id("s0123")
    assert entry is not None
    assert entry.key == key
    assert journal.by_elks_id("s9999") is None


# -- totals ------------------------------------------------------------------------------------


def test_counts_cover_every_state_and_total_cost_sums_reported_costs(journal: Journal) -> None:
    assert journal.counts(CAMPAIGN) == dict.fromkeys(State, 0)
    assert journal.total_cost(CAMPAIGN) == 0

    keys = plan(journal, 4)
    for key in keys[:3]:
        journal.mark_in_flight(key)
    journal.mark_sent(keys[0], elks_id="s1", parts=1, cost=3500, at=AT)
    journal.mark_sent(keys[1], elks_id="s2", parts=2, cost=7000, at=AT)
    journal.mark_delivery("s2", "delivered", AT)
    journal.mark_unknown(keys[2], "timeout")

    counts = journal.counts(CAMPAIGN)
    assert list(counts) == list(State)
    assert counts == {
        **dict.fromkeys(State, 0),
        State.SENT: 1,
        State.DELIVERED: 1,
        State.UNKNOWN: 1,
        State.PLANNED: 1,
    }
    assert journal.total_cost(CAMPAIGN) == 10_500
    assert journal.total_cost("other") == 0


# -- durability --------------------------------------------------------------------------------


def test_in_flight_is_visible_to_another_connection_when_marked(journal: Journal) -> None:
    (key,) = plan(journal)
    journal.mark_in_flight(key)
    other = sqlite3.connect(journal.path)
    try:
        row = other.execute("SELECT state, attempts FROM messages WHERE key = ?", (key,)).fetchone()
    finally:
        other.close()
    assert row == ("in_flight", 1)


def test_reopening_the_file_keeps_everything(journal_path: Path) -> None:
    with Journal.open(journal_path) as journal:
        journal.ensure_campaign(
            CAMPAIGN, source="book.xlsx", sheet="Kunder", sender="MyShop", options={"a": [1, 2]}
        )
        keys = plan(journal, 3)
        journal.mark_in_flight(keys[0])
        journal.mark_sent(keys[0], elks_id="s1", parts=1, cost=3500, at=AT)
        journal.mark_delivery("s1", "delivered", AT)
        journal.mark_in_flight(keys[1])
        entries = journal.entries(CAMPAIGN)
        campaigns = journal.campaigns()

    with Journal.open(journal_path) as reopened:
        assert reopened.entries(CAMPAIGN) == entries
        assert reopened.campaigns() == campaigns
        assert dict(campaigns[0].options) == {"a": [1, 2]}


def test_a_process_killed_right_after_mark_in_flight_leaves_the_message_in_flight(
    journal_path: Path,
) -> None:
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    child = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from elksxl.journal import Journal, PlannedMessage
        journal = Journal.open(Path({str(journal_path)!r}))
        journal.ensure_campaign("c", source="b.xlsx", sheet="S", sender="Me", options={{}})
        journal.add_planned("c", [PlannedMessage(2, "+46701234567", "Hej")])
        (entry,) = journal.entries("c")
        journal.mark_in_flight(entry.key)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=60)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()

    with Journal.open(journal_path) as journal:
        (entry,) = journal.entries("c")
        assert (entry.state, entry.attempts) == (State.IN_FLIGHT, 1)


def test_delete_campaign_is_refused_while_an_outcome_is_open(journal: Journal) -> None:
    keys = plan(journal, 2)
    journal.mark_in_flight(keys[0])
    with pytest.raises(JournalError, match="reconcile"):
        journal.delete_campaign(CAMPAIGN)
    assert len(journal.entries(CAMPAIGN)) == 2


def test_delete_campaign_forgets_it_and_its_messages(journal: Journal) -> None:
    keys = plan(journal, 2)
    journal.mark_in_flight(keys[0])
    journal.mark_rejected(keys[0], "no")
    assert journal.delete_campaign(CAMPAIGN) == 2
    assert journal.campaigns() == []
    assert journal.entry(keys[1]) is None


def test_discard_forgets_only_messages_that_never_reached_46elks(journal: Journal) -> None:
    planned, not_sent, in_flight, sent = plan(journal, 4)
    journal.mark_not_sent([not_sent], "out of credits")
    journal.mark_in_flight(in_flight)
    journal.mark_in_flight(sent)
    journal.mark_sent(sent, elks_id="s" + "1" * 32, parts=1, cost=3500, at=datetime.now(UTC))
    assert journal.discard([planned, not_sent, in_flight, sent]) == 2
    assert journal.entry(planned) is None
    assert journal.entry(not_sent) is None
    assert state_of(journal, in_flight) is State.IN_FLIGHT
    assert state_of(journal, sent) is State.SENT


# -- batches (group commit) --------------------------------------------------------------------


def committed_states(path: Path) -> dict[str, str]:
    """What another connection sees: only committed writes."""
    other = sqlite3.connect(path)
    try:
        return dict(other.execute("SELECT key, state FROM messages").fetchall())
    finally:
        other.close()


def test_a_batch_commits_all_its_writes_at_once(journal: Journal) -> None:
    keys = plan(journal, 3)

    with journal.batch():
        attempts = [journal.mark_in_flight(key) for key in keys]
        journal.mark_sent(keys[0], elks_id="s1", parts=1, cost=3500, at=AT)
        # The batch's own connection sees its writes; another one sees none before the commit.
        assert state_of(journal, keys[0]) is State.SENT
        assert set(committed_states(journal.path).values()) == {"planned"}

    assert attempts == [1, 1, 1]
    assert committed_states(journal.path) == {
        keys[0]: "sent",
        keys[1]: "in_flight",
        keys[2]: "in_flight",
    }


def test_a_failing_operation_in_a_batch_is_undone_alone_and_raises(journal: Journal) -> None:
    first, second, third = plan(journal, 3)
    journal.mark_in_flight(second)
    journal.mark_rejected(second, "no")

    with journal.batch():
        journal.mark_in_flight(first)
        with pytest.raises(IllegalTransitionError, match="row 3") as raised:
            journal.mark_not_sent(
                [third, second], "out of credits"
            )  # third is changed, then undone
        journal.mark_in_flight(third)

    assert raised.value.key == second
    assert committed_states(journal.path) == {
        first: "in_flight",
        second: "rejected",
        third: "in_flight",
    }
    entry = journal.entry(third)
    assert entry is not None
    assert entry.error is None


def mark_in_flight_then_fail(journal: Journal, key: str) -> None:
    with journal.batch():
        journal.mark_in_flight(key)
        raise RuntimeError("boom")


def test_an_exception_leaving_a_batch_rolls_the_whole_batch_back(journal: Journal) -> None:
    keys = plan(journal, 2)
    with pytest.raises(RuntimeError, match="boom"):
        mark_in_flight_then_fail(journal, keys[0])
    assert set(committed_states(journal.path).values()) == {"planned"}

    # The journal is usable afterwards, in and out of batches.
    journal.mark_in_flight(keys[0])
    with journal.batch():
        journal.mark_in_flight(keys[1])
    assert set(committed_states(journal.path).values()) == {"in_flight"}


def test_batches_do_not_nest(journal: Journal) -> None:
    (key,) = plan(journal)
    with journal.batch():
        journal.mark_in_flight(key)
        with pytest.raises(JournalError, match="nest"), journal.batch():
            journal.mark_planned([key])
        # The refused inner batch leaves the outer one open and working.
        assert state_of(journal, key) is State.IN_FLIGHT
    assert committed_states(journal.path) == {key: "in_flight"}


def test_a_process_killed_inside_a_batch_loses_that_batch_and_keeps_earlier_ones(
    journal_path: Path,
) -> None:
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    child = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from elksxl.journal import Journal, PlannedMessage
        journal = Journal.open(Path({str(journal_path)!r}))
        journal.ensure_campaign("c", source="b.xlsx", sheet="S", sender="Me", options={{}})
        planned = [PlannedMessage(r, f"+4670123456{{r}}", "Hej") for r in range(2, 6)]
        journal.add_planned("c", planned)
        first, second, third, fourth = (entry.key for entry in journal.entries("c"))
        with journal.batch():
            journal.mark_in_flight(first)
            journal.mark_in_flight(second)
        with journal.batch():
            at = journal.entry(first).attempted_at
            journal.mark_sent(first, elks_id="s1", parts=1, cost=3500, at=at)
            journal.mark_in_flight(third)
            journal.mark_in_flight(fourth)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=60)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()

    with Journal.open(journal_path) as journal:
        assert [(e.row, e.state, e.attempts) for e in journal.entries("c")] == [
            (2, State.IN_FLIGHT, 1),
            (3, State.IN_FLIGHT, 1),
            (4, State.PLANNED, 0),
            (5, State.PLANNED, 0),
        ]
        assert journal.by_elks_id("s1") is None
