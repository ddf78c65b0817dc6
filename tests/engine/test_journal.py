"""The journal is the proof: replay reproduces every instance, and any edit to it is detected."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from engine import journal
from engine.persistence.models import Instance, JournalEntry
from engine.simulation import DurableDriver, simulate
from webapp.cli import main


@pytest.fixture
def simulated(engine, clock):
    """A small campaign run through the durable engine, storing states every few entries."""
    engine.checkpoint_every = 4
    result = simulate(DurableDriver(engine, clock), engine.current_forms(), "DSDT-2014", 6, seed=7,
                      start=datetime(2014, 9, 1, 8, tzinfo=UTC))
    assert result.unfinished == 0
    return engine


def _an_instance_with(engine, min_entries: int) -> int:
    with engine.session() as session:
        return session.scalars(select(Instance.id).where(Instance.journal_seq >= min_entries)
                               .order_by(Instance.id)).first()


def _sql(engine, statement: str, **params) -> None:
    with engine.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_replay_reproduces_every_instance(simulated):
    report = simulated.verify()
    assert report.instances == 6 and report.verified == 6
    assert report.diverged == [] and report.chain_ok


def test_verify_cli_reports_json(simulated):
    result = CliRunner().invoke(main, ["verify", "--json", "--database", simulated.db.url])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report == {"instances": 6, "verified": 6, "diverged": [], "chain_ok": True}


TAMPERING = {
    "changed": "UPDATE journal_entry SET actor = 'intrus' WHERE instance_id = :iid AND seq = 3",
    "deleted": "DELETE FROM journal_entry WHERE instance_id = :iid AND seq = 3",
    "reordered": None,  # two statements, below
    "inserted": None,
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_any_edit_to_one_row_fails_verify_and_names_the_instance(simulated, case):
    iid = _an_instance_with(simulated, 5)
    if case == "reordered":
        _sql(simulated, "UPDATE journal_entry SET seq = -1 WHERE instance_id = :iid AND seq = 3", iid=iid)
        _sql(simulated, "UPDATE journal_entry SET seq = 3 WHERE instance_id = :iid AND seq = 4", iid=iid)
        _sql(simulated, "UPDATE journal_entry SET seq = 4 WHERE instance_id = :iid AND seq = -1", iid=iid)
    elif case == "inserted":
        with simulated.session() as session:
            row = session.scalars(select(JournalEntry).where(JournalEntry.instance_id == iid,
                                                             JournalEntry.seq == 2)).one()
            session.add(JournalEntry(instance_id=iid, seq=1000, command=row.command, actor=row.actor, at=row.at,
                                     payload=row.payload, state_hash=row.state_hash, prev_hash=row.entry_hash,
                                     entry_hash=row.entry_hash))
            session.commit()
    else:
        _sql(simulated, TAMPERING[case], iid=iid)
    report = simulated.verify()
    assert [item["instance"] for item in report.diverged] == [iid]
    assert report.verified == report.instances - 1
    assert not report.chain_ok
    result = CliRunner().invoke(main, ["verify", "--database", simulated.db.url])
    assert result.exit_code == 1
    assert simulated.instance(iid).ref in result.output


def test_a_rewritten_history_with_recomputed_hashes_fails_replay(simulated):
    """Whoever rewrites a payload and recomputes the whole chain still cannot fake the states."""
    iid = _an_instance_with(simulated, 5)
    with simulated.session() as session:
        instance = session.get(Instance, iid)
        rows = journal.entries(session, iid)
        contact = next(row for row in rows if row.payload.get("task", "").endswith("/contact.0"))
        contact.payload = {**contact.payload, "data": {**contact.payload["data"], "titre_projet": "Falsifié"}}
        prev = ""
        for row in rows:
            row.prev_hash = prev
            row.entry_hash = prev = journal.entry_hash(row.instance_id, row.seq, row.command, row.actor, row.at,
                                                       row.payload, row.state_hash, row.prev_hash)
        instance.journal_head = prev
        session.commit()
    report = simulated.verify()
    assert report.chain_ok
    assert [item["instance"] for item in report.diverged] == [iid]
    assert "different state" in report.diverged[0]["problem"]


def test_an_edited_stored_state_fails_verify(simulated):
    with simulated.session() as session:
        iid = session.scalars(select(Instance.id).where(Instance.state_seq > 0).order_by(Instance.id)).first()
    with simulated.session() as session:
        instance = session.get(Instance, iid)
        instance.state = instance.state.replace('"porteur":"', '"porteur":"x', 1)
        session.commit()
    report = simulated.verify()
    assert [item["instance"] for item in report.diverged] == [iid]


@pytest.mark.parametrize("garbage", ["pas du JSON", '{"tasks": 3}', "[]"])
def test_a_stored_state_that_is_not_a_workflow_is_reported_not_crashing_verify(simulated, garbage):
    with simulated.session() as session:
        iid = session.scalars(select(Instance.id).where(Instance.state_seq > 0).order_by(Instance.id)).first()
    _sql(simulated, "UPDATE instance SET state = :garbage WHERE id = :iid", garbage=garbage, iid=iid)
    report = simulated.verify()
    assert [item["instance"] for item in report.diverged] == [iid]
    assert "stored state" in report.diverged[0]["problem"]


def test_a_payload_emptied_by_hand_is_reported_not_crashing_verify(simulated):
    iid = _an_instance_with(simulated, 3)
    _sql(simulated, "UPDATE journal_entry SET payload = '{}' WHERE instance_id = :iid AND seq = 2", iid=iid)
    report = simulated.verify()
    assert [item["instance"] for item in report.diverged] == [iid]
    assert "cannot be re-applied" in report.diverged[0]["problem"]
