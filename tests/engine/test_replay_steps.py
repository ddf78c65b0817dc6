"""The step-by-step replay (engine.replay_steps): the state after each journal entry is what the
live engine showed at that moment (its task list and its data), computed by re-executing the
journal; an altered journal stops the replay at the entry it altered; bounds on the entry."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from engine import Actor, Audit, Invalid, NotFound, replay_steps
from engine.history import flatten
from engine.persistence.models import JournalEntry
from tests.factories import Walker

COMMANDS = ("start", "complete", "claim", "unclaim", "delegate", "withdraw", "fire_due_timers")


def journal_length(engine, instance_id: int) -> int:
    with engine.db.sessions() as session:
        return session.scalar(select(func.count()).where(JournalEntry.instance_id == instance_id))


@pytest.fixture
def recorded(engine, monkeypatch):
    """``snapshots[k]``: (open step ids, flattened data) the live engine showed right after the
    command that wrote journal entry ``k`` (of the one dossier the test walks)."""
    snapshots: dict[int, tuple[list[str], dict]] = {}
    followed: list[int] = []

    def wrap(name):
        original = getattr(engine, name)

        def recording(*args, **kwargs):
            result = original(*args, **kwargs)
            if name == "start":
                followed.append(result)
            for iid in followed:
                snapshots[journal_length(engine, iid)] = (
                    sorted(view.bpmn_id for view in engine.task_views(iid)),
                    flatten(copy.deepcopy(engine.data(iid))),
                )
            return result

        monkeypatch.setattr(engine, name, recording)

    for name in COMMANDS:
        wrap(name)
    return snapshots


def walk_late(engine, clock) -> int:
    """A dossier claimed, delegated and decided by a colleague, then closed by a missed deadline."""
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.do(iid, "contact", epci="CAB")
    walker.do(iid, "avis_commune", avis="favorable")
    view = walker.view(iid, "verification_contact")
    first = walker.actor_for(view, "CAB")
    colleague = Actor("collegue.verif", first.roles, first.epci)
    engine.claim(first, iid, view.ref)
    engine.delegate(first, iid, view.ref, colleague)
    engine.complete(colleague, iid, view.ref, walker.form(view, decision="adapte"))
    clock.set(datetime(2014, 12, 1, 23, 0, tzinfo=UTC))  # the fiche's deadline passes
    assert engine.fire_due_timers() == 1
    return iid


def test_each_entry_shows_what_the_live_engine_showed_then(engine, clock, recorded):
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.to_jury(iid)
    walker.jury(iid)
    total = journal_length(engine, iid)
    assert set(recorded) == set(range(1, total + 1))  # every entry was seen live
    audit = Audit(engine)
    for k in range(1, total + 1):
        view = audit.replay(iid, k)
        assert view.problem is None and view.total == total and view.entry == k
        open_ids, data = recorded[k]
        point = view.point
        assert sorted(step.bpmn_id for step in point.open_steps) == open_ids, k
        assert point.data == data, k
        active = {i for marks in point.processes.values() for i in marks.active}
        assert set(open_ids) <= active, k  # every open step carries a token on its diagram
        if k > 1:
            before = audit.replay(iid, k - 1).point.data
            assert point.changed == sorted(p for p in before.keys() | data.keys() if before.get(p) != data.get(p)
                                           or (p in before) != (p in data))


def test_marks_per_process_follow_the_phases(engine, clock):
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.through_contact(iid)
    audit = Audit(engine)
    first = audit.replay(iid, 1).point
    assert first.processes["dsdt_candidature"].active == ["phase_contact"]
    assert first.processes["dsdt_candidature"].waiting == ["cand_retrait_contact"]  # the withdrawal it awaits
    assert first.processes["dsdt_contact"].active == ["contact"]
    assert "dsdt_fiche" not in first.processes and not first.finished
    last = audit.replay(iid, journal_length(engine, iid)).point
    main = last.processes["dsdt_candidature"]
    assert "phase_contact" in main.done and main.active == ["phase_fiche"]
    assert "contact" in last.processes["dsdt_contact"].done and last.processes["dsdt_contact"].active == []
    assert last.processes["dsdt_fiche"].active == ["fiche"]
    assert last.processes["dsdt_fiche"].waiting == ["fiche_delai"]  # the fiche's deadline


def test_claims_delegations_and_a_fired_deadline(engine, clock, recorded):
    iid = walk_late(engine, clock)
    audit = Audit(engine)
    view = audit.replay(iid, journal_length(engine, iid))
    assert [label.command for label in view.entries][-4:] == ["claim", "delegate", "complete", "fire_timers"]
    assert view.entries[-1].actor == "system"
    for k in range(1, view.total + 1):
        point = audit.replay(iid, k).point
        assert sorted(step.bpmn_id for step in point.open_steps) == recorded[k][0]
        assert point.data == recorded[k][1]
    before_timer = audit.replay(iid, view.total - 1).point
    assert "fiche_delai" in before_timer.processes["dsdt_fiche"].waiting
    after = view.point
    assert after.finished and after.open_steps == []
    assert "fiche_delai" in after.processes["dsdt_fiche"].done
    assert "issue" in after.changed


def test_an_altered_entry_stops_the_replay_there(engine, clock):
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.through_contact(iid)
    with engine.db.sessions() as session, session.begin():
        session.execute(update(JournalEntry).where(JournalEntry.instance_id == iid, JournalEntry.seq == 3)
                        .values(payload={"task": "nope.0", "data": {}}))
    audit = Audit(engine)
    assert audit.replay(iid, 2).point is not None
    for k in (3, 4):
        view = audit.replay(iid, k)
        assert view.point is None and "entry 3" in view.problem


def test_a_changed_fingerprint_is_caught_as_verify_catches_it(engine, clock):
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.through_contact(iid)
    with engine.db.sessions() as session, session.begin():
        session.execute(update(JournalEntry).where(JournalEntry.instance_id == iid, JournalEntry.seq == 2)
                        .values(state_hash="0" * 64))
    view = Audit(engine).replay(iid, 4)
    assert view.point is None and view.problem == "entry 2 (complete) reaches a different state than journaled"


@pytest.mark.parametrize("entry", [0, -1, 5, 10**12])
def test_entries_out_of_the_journal_are_refused(engine, clock, entry):
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.through_contact(iid)  # 4 entries
    with pytest.raises(Invalid) as caught:
        Audit(engine).replay(iid, entry)
    assert caught.value.code == "replay.entry" and caught.value.params == {"entry": entry, "total": 4}


def test_unknown_dossier_and_journals_beyond_the_bound(engine, clock, monkeypatch):
    with pytest.raises(NotFound):
        Audit(engine).replay(999, 1)
    walker = Walker(engine, clock)
    iid = walker.start()
    walker.do(iid, "contact", epci="CAB")
    monkeypatch.setattr(replay_steps, "MAX_ENTRIES", 1)
    with pytest.raises(Invalid) as caught:
        Audit(engine).replay(iid, 1)
    assert caught.value.code == "replay.too_long" and caught.value.params == {"total": 2, "limit": 1}
