"""The campaign Session in process, as every surface runs it: tables in, a sink out.

Campaign identity, resume, moved rows, out of credits, cancel, message changes, the balance
check and dry runs live here, so the CLI, the add-in backend and the xlwings layer inherit
them. The 46elks side is the simulator over real HTTP; the journal is a real SQLite file.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from elksxl.campaign import Notice, Outcome, Prepared, SendResult, Session, legacy_campaign_id
from elksxl.config import Settings
from elksxl.errors import BalanceError, ConfigError, NotACampaignError
from elksxl.table import RESULT_COLUMNS, Row, Table
from elksxl.testing import MemorySink

FAST = {"rate_per_minute": 0}
SENDER = "Elksxl"


def number(i: int) -> str:
    return f"070-123 {i // 100:02d} {i % 100:02d}"


def e164(i: int) -> str:
    return f"+4670123{i // 100:02d}{i % 100:02d}"


def contacts(
    count: int,
    *,
    sink: MemorySink | None = None,
    source: str = "book.xlsx",
    first_row: int = 2,
) -> Table:
    """Namn/Telefon for ``count`` recipients as a sheet would read back: with the results and
    campaign id ``sink`` saved (a workbook reopened after a run), else fresh."""
    statuses = sink.statuses() if sink else {}
    rows = [
        Row(first_row + i, (f"Namn{i}", number(i), statuses.get(first_row + i)))
        for i in range(count)
    ]
    return Table(
        header=("Namn", "Telefon", RESULT_COLUMNS[0]),
        rows=rows,
        sheet="Kontakter",
        source=source,
        campaign_id=sink.saved_campaign_id if sink else None,
    )


@pytest.fixture
def settings(simulator_factory: Any, tmp_path: Path) -> Settings:
    sim = simulator_factory(FAST)
    return sim.settings(  # type: ignore[no-any-return]
        journal_path=tmp_path / "journal.sqlite3", rate_per_minute=0, sender=SENDER
    )


def run(session: Session, prepared: Prepared, sink: MemorySink, **kwargs: Any) -> SendResult:
    return asyncio.run(session.send(prepared, sink, **kwargs))


def texts_by_recipient(sim: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for m in sim.messages():
        found.setdefault(m["to"], []).append(m["message"])
    return found


def cancel_after(count: int) -> tuple[asyncio.Event, Any]:
    cancel = asyncio.Event()

    def progress(p: Any) -> None:
        if p.sent >= count:
            cancel.set()

    return cancel, progress


# -- campaign identity ----------------------------------------------------------------------


def test_a_fresh_copy_at_the_same_path_is_a_new_campaign_and_gets_the_new_message(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    settings = sim.settings(journal_path=tmp_path / "j.sqlite3", rate_per_minute=0)
    with Session(settings) as session:
        first = MemorySink()
        prepared = session.prepare(contacts(10), "Påminnelse {{ Namn }}")
        run(session, prepared, first, sender=SENDER)

        fresh = session.prepare(contacts(10), "Faktura {{ Namn }}")  # same path, no id
        assert fresh.campaign_id is None
        assert fresh.notices == ()
        assert (len(fresh.plan.messages), len(fresh.plan.already_sent)) == (10, 0)
        second = MemorySink()
        result = run(session, fresh, second, sender=SENDER)

    assert result.outcome is Outcome.COMPLETE
    assert result.summary.counts["sent"] == 10
    assert second.saved_campaign_id not in (None, first.saved_campaign_id)
    assert set(second.statuses().values()) == {"sent"}
    texts = texts_by_recipient(sim)
    assert all(sorted(t[:7] for t in texts[e164(i)]) == ["Faktura", "Påminne"] for i in range(10))


def test_the_campaign_id_is_saved_before_the_first_message_leaves(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    settings = sim.settings(journal_path=tmp_path / "j.sqlite3", rate_per_minute=0)
    seen: list[tuple[int, str | None]] = []
    sink = MemorySink()

    def progress(p: Any) -> None:
        seen.append((p.sent, sink.saved_campaign_id))

    with Session(settings) as session:
        run(session, session.prepare(contacts(5), "Hej"), sink, sender=SENDER, on_progress=progress)

    assert sink.saved_campaign_id is not None
    assert seen
    assert all(saved == sink.saved_campaign_id for _, saved in seen)


def test_a_renamed_half_sent_workbook_resumes_without_a_single_duplicate(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    settings = sim.settings(journal_path=tmp_path / "j.sqlite3", rate_per_minute=600)
    sink = MemorySink()
    with Session(settings) as session:
        cancel, progress = cancel_after(21)
        first = run(
            session,
            session.prepare(contacts(60), "Hej {{ Namn }}"),
            sink,
            sender=SENDER,
            cancel=cancel,
            on_progress=progress,
        )
    assert first.outcome is Outcome.CANCELLED
    sent_before = len(sim.messages())
    assert 21 <= sent_before < 60

    # The copy carries the campaign id but, as after a crash, none of the results.
    renamed = dataclasses.replace(
        contacts(60, source="renamed.xlsx"), campaign_id=sink.saved_campaign_id
    )
    with Session(dataclasses.replace(settings, rate_per_minute=0)) as session:
        prepared = session.prepare(renamed, "Hej {{ Namn }}")
        assert len(prepared.plan.already_sent) == sent_before
        assert len(prepared.plan.messages) == 60 - sent_before
        second = run(session, prepared, MemorySink(), sender=SENDER)

    assert second.outcome is Outcome.COMPLETE
    assert second.summary.counts["sent"] == 60
    texts = texts_by_recipient(sim)
    assert sorted(texts) == sorted(e164(i) for i in range(60))
    assert all(len(t) == 1 for t in texts.values())


def test_a_changed_message_is_announced_and_rows_marked_sent_stay_skipped(
    settings: Settings,
) -> None:
    with Session(settings) as session:
        sink = MemorySink()
        run(session, session.prepare(contacts(5), "Hej {{ Namn }}"), sink)
        reopened = contacts(8, sink=sink)  # three rows were added below

        same = session.prepare(reopened, "Hej {{ Namn }}")
        changed = session.prepare(reopened, "Hallå {{ Namn }}")

    assert same.notices == ()
    assert changed.notices == (Notice.MESSAGE_CHANGED,)
    assert "differs" in changed.notice_texts()[0]
    assert [m.row for m in changed.plan.messages] == [7, 8, 9]
    assert len(changed.plan.already_sent) == 5


def test_a_new_campaign_sends_the_new_message_to_every_valid_row(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    settings = sim.settings(journal_path=tmp_path / "j.sqlite3", rate_per_minute=0)
    with Session(settings) as session:
        sink = MemorySink()
        run(session, session.prepare(contacts(5), "Hej {{ Namn }}"), sink, sender=SENDER)
        prepared = session.prepare(contacts(5, sink=sink), "Nytt {{ Namn }}", new_campaign=True)
        assert prepared.notices == (Notice.NEW_CAMPAIGN,)
        assert len(prepared.plan.messages) == 5
        again = MemorySink(campaign_id=sink.saved_campaign_id)
        result = run(session, prepared, again, sender=SENDER)

    assert result.summary.counts["sent"] == 5
    assert again.saved_campaign_id not in (None, sink.saved_campaign_id)
    assert sum(1 for m in sim.messages() if m["message"].startswith("Nytt")) == 5


def test_a_workbook_whose_campaign_is_not_in_this_journal_is_announced(
    settings: Settings, tmp_path: Path
) -> None:
    with Session(settings) as session:
        sink = MemorySink()
        run(session, session.prepare(contacts(3), "Hej"), sink)
    elsewhere = dataclasses.replace(settings, journal_path=tmp_path / "other.sqlite3")
    with Session(elsewhere) as session:
        prepared = session.prepare(contacts(4, sink=sink), "Hej")

    assert prepared.notices == (Notice.NOT_IN_JOURNAL,)
    assert str(tmp_path / "other.sqlite3") in prepared.notice_texts()[0]
    assert [m.row for m in prepared.plan.messages] == [5]


# -- resume ---------------------------------------------------------------------------------


def test_rows_moved_before_the_results_were_saved_are_not_sent_again(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    settings = sim.settings(journal_path=tmp_path / "j.sqlite3", rate_per_minute=0)
    with Session(settings) as session:
        sink = MemorySink()
        run(session, session.prepare(contacts(6), "Hej {{ Namn }}"), sink, sender=SENDER)
        # Two rows inserted above the list; the results never reached the file.
        moved = dataclasses.replace(contacts(6, first_row=4), campaign_id=sink.saved_campaign_id)
        prepared = session.prepare(moved, "Hej {{ Namn }}")
        assert prepared.plan.messages == ()
        again = MemorySink()
        run(session, prepared, again, sender=SENDER)

    assert len(sim.messages()) == 6
    # Each moved row gets the result of its message, under its new row number.
    ids = {m["to"]: m["id"] for m in sim.messages()}
    assert again.statuses() == {row: "sent" for row in range(4, 10)}
    assert [again.saved[4 + i].sms_id for i in range(6)] == [ids[e164(i)] for i in range(6)]


def test_out_of_credits_stops_and_a_run_after_topping_up_sends_the_rest(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    settings = sim.settings(journal_path=tmp_path / "j.sqlite3", rate_per_minute=0)
    sim.set_balance(sim.username, 3 * 3500 + 1000)  # three 1-part messages to Sweden
    with Session(settings) as session:
        sink = MemorySink()
        stopped = run(session, session.prepare(contacts(10), "Hej"), sink, sender=SENDER)
        assert stopped.outcome is Outcome.STOPPED
        assert Counter(sink.statuses().values()) == {"sent": 3, "not sent": 7}
        assert all("credits" in (r.error or "") for r in sink.saved.values() if r.status != "sent")

        sim.set_balance(sim.username, 10**9)
        prepared = session.prepare(contacts(10, sink=sink), "Hej")
        assert len(prepared.plan.messages) == 7
        resumed = run(session, prepared, sink, sender=SENDER)

    assert resumed.outcome is Outcome.COMPLETE
    assert sorted(m["to"] for m in sim.messages()) == sorted(e164(i) for i in range(10))
    assert set(sink.statuses().values()) == {"sent"}


def test_problem_rows_get_their_reason_and_a_complete_run_is_complete(
    settings: Settings,
) -> None:
    table = contacts(3)
    table = dataclasses.replace(
        table,
        rows=[*table.rows, Row(5, ("Ingen", "12", None)), Row(6, ("Dubbel", number(0), None))],
    )
    with Session(settings) as session:
        sink = MemorySink()
        result = run(session, session.prepare(table, "Hej"), sink)

    assert result.outcome is Outcome.COMPLETE
    assert sink.statuses() == {2: "sent", 3: "sent", 4: "sent", 5: "invalid", 6: "duplicate"}
    assert result.currency == "SEK"


# -- checks before sending ------------------------------------------------------------------


def test_an_estimate_above_the_balance_is_refused_unless_forced(
    simulator_factory: Any, tmp_path: Path
) -> None:
    sim = simulator_factory(FAST)
    sim.set_balance(sim.username, 3500)
    with Session(sim.settings(journal_path=tmp_path / "j.sqlite3")) as session:
        prepared = session.prepare(contacts(2), "Hej")
        account = asyncio.run(session.account())
        with pytest.raises(BalanceError, match="exceeds the balance"):
            session.check_balance(prepared, account)
        assert "sending anyway" in session.check_balance(prepared, account, force=True)
        other = dataclasses.replace(account, currency="EUR")
        assert "not compared" in session.check_balance(prepared, other)


def test_a_sender_is_required_and_checked(settings: Settings) -> None:
    with Session(dataclasses.replace(settings, sender=None)) as session:
        with pytest.raises(ConfigError, match="no sender"):
            session.require_sender(None)
        with pytest.raises(ConfigError, match="invalid sender"):
            session.require_sender("1 bad sender")
        assert session.require_sender("MyShop") == "MyShop"


def test_a_dry_run_gets_through_5xx_dropped_connections_and_an_unreachable_url(
    simulator_factory: Any, tmp_path: Path
) -> None:
    faults = {"seed": 3, "error_5xx": 0.3, "drop_before": 0.2}
    sim = simulator_factory({"rate_per_minute": 0, "faults": faults})
    settings = sim.settings(journal_path=tmp_path / "j.sqlite3", rate_per_minute=0)
    settings = dataclasses.replace(settings, api_urls=("http://127.0.0.1:9/a1", *settings.api_urls))
    with Session(settings) as session:
        prepared = session.prepare(contacts(12), "Hej {{ Namn }}")
        priced = asyncio.run(session.dry_run(prepared, sender=SENDER))

    assert (priced.messages, priced.parts, priced.estimated_cost) == (12, 12, 12 * 3500)
    assert priced.rejected == ()
    assert sim.messages() == []
    stats = sim.stats()
    assert stats["errors_5xx"] > 0
    assert stats["drops_before"] > 0


# -- status ---------------------------------------------------------------------------------


def test_status_counts_every_state_and_fills_in_the_results(settings: Settings) -> None:
    table = contacts(3)
    table = dataclasses.replace(table, rows=[*table.rows, Row(5, ("Ingen", "12", None))])
    with Session(settings) as session:
        sent = MemorySink()
        run(session, session.prepare(table, "Hej"), sent)
        reopened = dataclasses.replace(
            contacts(3, sink=sent),
            rows=[*contacts(3, sink=sent).rows, Row(5, ("Ingen", "12", "invalid"))],
        )
        lost = dataclasses.replace(contacts(3), campaign_id=sent.saved_campaign_id)
        filled = MemorySink()
        status = session.status(reopened)
        session.status(lost, filled)

    assert status.counts == {"sent": 3, "invalid": 1}
    assert status.cost == 3 * 3500
    assert status.currency == "SEK"
    assert filled.statuses() == {2: "sent", 3: "sent", 4: "sent"}


def test_status_of_a_workbook_never_sent_says_so_and_writes_nothing(settings: Settings) -> None:
    sink = MemorySink()
    with Session(settings) as session, pytest.raises(NotACampaignError, match="nothing was sent"):
        session.status(contacts(3), sink)
    assert sink.saves == 0
    assert not settings.journal_path.exists()


def test_a_workbook_sent_by_elksxl_0_1_is_adopted_and_its_id_stored(
    settings: Settings, tmp_path: Path
) -> None:
    from elksxl.journal import Journal, PlannedMessage

    book = contacts(3, source=str(tmp_path / "gammal.xlsx"))
    legacy = legacy_campaign_id(book)
    with Journal.open(settings.journal_path) as journal:  # as elksxl 0.1 left it: keyed by path
        journal.ensure_campaign(
            legacy, source=book.source, sheet=book.sheet, sender=SENDER, options={}
        )
        journal.add_planned(legacy, [PlannedMessage(2, e164(0), "Hej")])
        key = journal.entries(legacy)[0].key
        journal.mark_in_flight(key)
        journal.mark_sent(key, elks_id="s0", parts=1, cost=3500, at=datetime.now(UTC))
    sent_before = dataclasses.replace(
        book, rows=[Row(2, (*book.rows[0].values[:2], "sent")), *book.rows[1:]]
    )

    with Session(settings) as session:
        prepared = session.prepare(sent_before, "Hej")
        sink = MemorySink()
        run(session, prepared, sink)

    assert prepared.campaign_id == legacy
    assert prepared.notices == (Notice.ADOPTED,)
    assert [m.row for m in prepared.plan.messages] == [3, 4]
    assert sink.saved_campaign_id == legacy
