"""Tampering with the record, each way someone with write access to the database could: every
one is detected, and the first bad journal entry is named as a number (``InstanceReport.entry``,
``IntegrityResult.entry``), not left to be read out of ``verify``'s English text.

What ``tests/engine/test_seals.py`` already proves (an edit of one row named by the seals too; a
chain rewritten with recomputed hashes passing ``verify`` but caught by the seals) is not
repeated here; this file pins the entry number of every case, including those whose problem
text names no entry (entries cut off the end, one appended, the stored claims edited).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from engine import Audit, journal
from engine.persistence.models import Instance, JournalEntry
from engine.replay import verify_instance
from engine.simulation import DurableDriver, simulate
from tests.factories import insert_copy_of_entry_2


@pytest.fixture
def simulated(engine, clock):
    engine.checkpoint_every = 4
    result = simulate(DurableDriver(engine, clock), engine.current_forms(), "DSDT-2014", 4, seed=7,
                      start=datetime(2014, 9, 1, 8, tzinfo=UTC))
    assert result.unfinished == 0
    return engine


def _dossier(engine, min_entries: int = 6) -> tuple[int, int, int]:
    """(id, journal length, entry its stored state follows) of the first long enough dossier."""
    with engine.session() as session:
        return session.execute(select(Instance.id, Instance.journal_seq, Instance.state_seq)
                               .where(Instance.journal_seq >= min_entries, Instance.state_seq > 0)
                               .order_by(Instance.id)).first()


def _sql(engine, *statements, **params):
    with engine.db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)


def _report(engine, iid):
    with engine.session() as session:
        return verify_instance(session, session.get(Instance, iid), engine.deployments, engine.script_engine,
                               engine.serializer)


def _append_a_well_formed_entry(engine, iid):
    """A forged entry at the end, hashed and linked as a real one, without updating the head."""
    with engine.session() as session:
        last = journal.entries(session, iid)[-1]
        seq, payload = last.seq + 1, {"task": "x.0/y.0", "data": {}}
        digest = journal.entry_hash(iid, seq, "complete", "intrus", last.at, payload, last.state_hash,
                                    last.entry_hash)
        session.add(JournalEntry(instance_id=iid, seq=seq, command="complete", actor="intrus", at=last.at,
                                 payload=payload, state_hash=last.state_hash, prev_hash=last.entry_hash,
                                 entry_hash=digest))
        session.commit()


ROW = "UPDATE journal_entry SET {} WHERE instance_id = :iid AND seq = {}"
# case → (statements or a helper, the entry that must be named: a number or a function of the dossier)
CASES = {
    "actor changed": ([ROW.format("actor = 'intrus'", 3)], 3),
    "payload changed": ([ROW.format("payload = '{\"task\": \"forged\"}'", 4)], 4),
    "instant changed": ([ROW.format("at = '2014-01-01 00:00:00.000000'", 2)], 2),
    "row deleted": (["DELETE FROM journal_entry WHERE instance_id = :iid AND seq = 3"], 3),
    "last row deleted": (["DELETE FROM journal_entry WHERE instance_id = :iid AND seq = "
                          "(SELECT MAX(seq) FROM journal_entry WHERE instance_id = :iid)"], "last"),
    "rows reordered": ([ROW.format("seq = -1", 3), ROW.format("seq = 3", 4), ROW.format("seq = 4", -1)], 3),
    "row inserted": (insert_copy_of_entry_2, 3),
    "row appended": (_append_a_well_formed_entry, "after last"),
    "stored state edited": (["UPDATE instance SET state = replace(state, '\"porteur\":\"', '\"porteur\":\"x') "
                             "WHERE id = :iid"], "checkpoint"),
    "stored claims edited": (["UPDATE instance SET claims = '{\"forged.0/task.0\": \"intrus\"}' WHERE id = :iid"],
                             "last"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_tampering_is_detected_and_its_first_bad_entry_named(simulated, case):
    iid, length, checkpoint = _dossier(simulated)
    assert _report(simulated, iid).problem is None and _report(simulated, iid).entry is None
    change, expected = CASES[case]
    if callable(change):
        change(simulated, iid)
    else:
        _sql(simulated, *change, iid=iid)
    expected = {"last": length, "after last": length + 1, "checkpoint": checkpoint}.get(expected, expected)
    report = _report(simulated, iid)
    assert report.problem is not None and report.entry == expected, (report.problem, report.entry)
    result = Audit(simulated).verify_one(iid)  # what the integrity page shows
    assert not result.ok and result.entry == expected
    diverged = simulated.verify().diverged  # what ``dsdt verify --json`` prints
    assert [(item["instance"], item["entry"]) for item in diverged] == [(iid, expected)]


def test_a_chain_report_names_the_entry_as_a_number():
    class Head:  # an instance with an empty journal recorded as holding two entries
        journal_seq, journal_head = 2, "x"

    report = journal.check_chain(Head(), [])
    assert not report.ok and report.entry == 1
