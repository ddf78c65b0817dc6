"""Every replay of a dossier's journal follows its migrations: the audit history, the step-by-step
replay, the event log and the step-span backfill start on the version the dossier was created on
and move to the new one at its ``migrate`` entry (one function: engine.replay.replay_states)."""

from __future__ import annotations

from sqlalchemy import select

from engine import Actor, migrate_dossiers
from engine.exports.events import EventLog
from engine.history import read_history
from engine.persistence.models import StepSpan
from engine.replay_steps import replay_to
from engine.step_spans import backfill
from tests.factories import PORTEUR, ColdEngine, Walker

OWNER = Actor("process.owner", frozenset({"process_owner"}))
REASON = "Le libellé de l'étape de description change pour la campagne 2015"
OLD_NAME, NEW_NAME = "Décrire le projet", "Décrire le projet de territoire"


def _migrated(engine, clock, models):
    """A dossier past its contact phase on version 1, moved to version 2 (the completed step
    ``contact`` renamed), then through its fiche on version 2; returns its id and journal length."""
    walker = Walker(engine, clock)
    iid = walker.start(PORTEUR)
    walker.through_contact(iid)
    path = models / "processes/phase_contact.bpmn"
    text = path.read_text()
    assert f'name="{OLD_NAME}"' in text
    path.write_text(text.replace(f'name="{OLD_NAME}"', f'name="{NEW_NAME}"'))
    assert engine.deploy_directory(models, author="owner", comment="v2").version == 2
    cold = ColdEngine(engine.db, clock, engine.script_engine)
    migrate_dossiers(cold, OWNER, 2, refs=[engine.instance(iid).ref], reason=REASON)
    walker = Walker(ColdEngine(engine.db, clock, engine.script_engine), clock)
    walker.porteur = PORTEUR
    walker.through_fiche(iid)
    return iid


def _seq_of(history, command):
    return next(entry.seq for entry in history.entries if entry.command == command)


def test_history_shows_the_migration_who_why_and_each_entrys_version(engine, clock, models):
    iid = _migrated(engine, clock, models)

    history = read_history(engine, iid)

    assert history.replay_problem is None
    assert all(entry.changes is not None for entry in history.entries)  # replayed to the end
    migrate = next(entry for entry in history.entries if entry.command == "migrate")
    assert (migrate.actor, migrate.reason, migrate.administrative, migrate.reason_missing) == (
        "process.owner", REASON, True, False)
    assert migrate.submitted["from_version"] == 1 and migrate.submitted["to_version"] == 2
    contact = next(entry for entry in history.entries if entry.bpmn_id == "contact")
    assert (contact.version, contact.step_name) == (1, OLD_NAME)  # as it was when it ran
    fiche = next(entry for entry in history.entries if entry.bpmn_id == "fiche")
    assert fiche.version == 2 and fiche.seq > migrate.seq and fiche.changes


def test_the_step_by_step_replay_crosses_the_migration_and_names_each_points_version(engine, clock, models):
    iid = _migrated(engine, clock, models)
    history = read_history(engine, iid)
    migrate_seq, total = _seq_of(history, "migrate"), len(history.entries)

    before = replay_to(engine, iid, migrate_seq - 1)
    after = replay_to(engine, iid, migrate_seq)
    last = replay_to(engine, iid, total)

    assert (before.problem, after.problem, last.problem) == (None, None, None)
    assert before.version == 1 and after.version == 2 and last.version == 2
    assert before.deployment_id != last.deployment_id
    assert next(label for label in last.entries if label.seq == migrate_seq).command == "migrate"
    assert next(label for label in last.entries if label.bpmn_id == "fiche").step_name == "Déposer la fiche synthétique"
    assert [step.bpmn_id for step in last.point.open_steps] == ["dossier"]


def test_the_event_log_names_each_step_in_the_version_it_ran_on(engine, clock, models):
    iid = _migrated(engine, clock, models)

    [trace] = list(EventLog(engine).traces([iid]))

    activities = [event.activity for event in trace.events]
    assert OLD_NAME in activities and NEW_NAME not in activities
    assert "Déposer la fiche synthétique" in activities
    assert trace.version == 2


def test_the_step_span_backfill_replays_across_the_migration_as_the_projection_recorded(engine, clock, models):
    iid = _migrated(engine, clock, models)
    columns = ("task_ref", "bpmn_id", "opened_seq", "closed_seq", "completed")

    def stored():
        with engine.session() as session:
            return [tuple(getattr(row, name) for name in columns) for row in session.scalars(
                select(StepSpan).where(StepSpan.instance_id == iid).order_by(StepSpan.id))]

    recorded = stored()
    assert backfill(engine, [iid]) == 1

    rebuilt = stored()
    assert [row[1] for row in rebuilt] == [row[1] for row in recorded]
    assert "fiche" in [row[1] for row in rebuilt] and "dossier" in [row[1] for row in rebuilt]
    assert rebuilt == recorded
