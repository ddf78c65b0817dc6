"""Process analytics: the step-span projection agrees with the journal, and the figures with the tables."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from engine import journal
from engine.analytics import Analytics, AnalyticsFilter, percentile
from engine.audit import RUNNING
from engine.persistence.models import Instance, StepSpan
from engine.queries import bpmn_id_of
from engine.simulation import DurableDriver, simulate
from engine.step_spans import backfill, spans_from_journal
from webapp.cli import main

COLUMNS = ("task_ref", "bpmn_id", "opened_at", "opened_seq", "before_s", "waiting_s", "closed_at", "closed_seq",
           "duration_s", "completed")


@pytest.fixture
def simulated(engine, clock):
    """A small campaign through the durable engine: deadlines missed, withdrawals, jury, conventions."""
    result = simulate(DurableDriver(engine, clock), engine.current_forms(), "DSDT-2014", 10, seed=11,
                      start=datetime(2014, 9, 1, 8, tzinfo=UTC))
    assert result.unfinished == 0
    return engine


def _stored(engine, instance_id: int) -> list[tuple]:
    with engine.session() as session:
        rows = session.scalars(select(StepSpan).where(StepSpan.instance_id == instance_id).order_by(StepSpan.id))
        return [tuple(getattr(row, name) for name in COLUMNS) for row in rows]


def _replayed(engine, instance_id: int) -> list[tuple]:
    with engine.session() as session:
        instance = session.get(Instance, instance_id)
        models = engine.deployments.models(session, instance.deployment_id)
        spans = spans_from_journal(journal.entries(session, instance_id), models, engine.script_engine)
    return [tuple(getattr(span, name) for name in COLUMNS) for span in spans]


def _instances(engine) -> list[Instance]:
    with engine.session() as session:
        return list(session.scalars(select(Instance).order_by(Instance.id)))


def test_the_projection_is_what_replaying_the_journal_gives(simulated):
    instances = _instances(simulated)
    closed_otherwise = 0
    for instance in instances:
        stored = _stored(simulated, instance.id)
        assert stored, instance.ref
        assert stored == _replayed(simulated, instance.id), instance.ref
        closed_otherwise += sum(1 for row in stored if row[-1] is False)
    # Some steps were closed by a deadline or a withdrawal, not completed.
    assert closed_otherwise > 0


def test_backfill_rebuilds_the_same_rows_from_the_journals(simulated):
    before = {instance.id: _stored(simulated, instance.id) for instance in _instances(simulated)}
    with simulated.db.sessions.begin() as session:
        session.execute(delete(StepSpan))
    assert backfill(simulated) == len(before)
    assert {instance_id: _stored(simulated, instance_id) for instance_id in before} == before
    assert backfill(simulated) == 0  # every dossier has its spans now


def test_cli_backfills_and_shows_the_figures(simulated):
    with simulated.db.sessions.begin() as session:
        session.execute(delete(StepSpan).where(StepSpan.instance_id == _instances(simulated)[0].id))
    done = CliRunner().invoke(main, ["analytics", "backfill", "--database", simulated.db.url])
    assert done.exit_code == 0 and "rebuilt for 1 dossier" in done.output, done.output
    shown = CliRunner().invoke(main, ["analytics", "show", "--version", "1", "--database", simulated.db.url])
    assert shown.exit_code == 0, shown.output
    figures = json.loads(shown.output[shown.output.index("{\n"):])
    assert figures["dossiers"] == 10 and figures["steps"][0]["bpmn_id"] == "contact"


def test_outcome_counts_match_the_instance_table(simulated):
    result = Analytics(simulated).compute(AnalyticsFilter())
    expected = Counter(RUNNING if i.status != "completed" else i.outcome for i in _instances(simulated))
    assert result.outcomes == dict(expected)
    assert result.dossiers == 10 == sum(result.outcomes.values())
    closed = [(i.updated_at - i.created_at).total_seconds() for i in _instances(simulated) if i.status == "completed"]
    assert result.lifecycle.count == len(closed)
    assert result.lifecycle.median == pytest.approx(statistics.median(closed))


def test_step_figures_match_the_spans(simulated):
    result = Analytics(simulated).compute(AnalyticsFilter())
    with simulated.session() as session:
        spans = list(session.scalars(select(StepSpan)))
    for step in result.steps:
        mine = [s for s in spans if s.bpmn_id == step.bpmn_id]
        done = sorted(s.duration_s for s in mine if s.completed)
        assert step.opened == len(mine)
        assert step.completed == len(done)
        assert step.duration.median == (statistics.median(done) if done else None)
        if len(done) > 1:
            assert step.duration.p90 == pytest.approx(statistics.quantiles(done, n=10, method="inclusive")[-1])
        waits = [s.waiting_s for s in mine if s.waiting_s is not None]
        assert step.waiting.count == len(waits) >= len(done)
        assert step.waiting.median == (pytest.approx(statistics.median(waits)) if waits else None)
    assert result.steps[0].bpmn_id == "contact"  # in the order dossiers meet them
    assert all(step.name for step in result.steps)


def test_filters(simulated):
    analytics = Analytics(simulated)
    instances = _instances(simulated)
    by_epci = Counter(i.epci for i in instances)
    epci, count = by_epci.most_common(1)[0]
    assert analytics.compute(AnalyticsFilter(epci=epci)).dossiers == count
    assert analytics.compute(AnalyticsFilter(campaign="DSDT-2014")).dossiers == 10
    assert analytics.compute(AnalyticsFilter(campaign="NOPE")).dossiers == 0
    assert analytics.compute(AnalyticsFilter(version=1)).dossiers == 10
    empty = analytics.compute(AnalyticsFilter(version=99))
    assert (empty.dossiers, empty.steps, empty.lifecycle.median) == (0, [], None)
    mine = analytics.compute(AnalyticsFilter(epci=epci))
    ids = {i.id for i in instances if i.epci == epci}
    with simulated.session() as session:
        opened = session.scalar(select(StepSpan.id).where(StepSpan.instance_id.in_(ids)).limit(1))
    assert opened is not None and sum(step.opened for step in mine.steps) == len(
        [row for i in ids for row in _stored(simulated, i)])
    choices = analytics.choices()
    assert choices["campaigns"] == ["DSDT-2014"] and epci in choices["epcis"] and choices["versions"] == [1]


def test_durations_of_one_dossier_computed_by_hand_from_its_journal(engine, clock, walker):
    iid = walker.start()
    walker.do(iid, "contact", days=3, epci="CAB")
    walker.do(iid, "avis_commune", days=2, avis="favorable")
    view = walker.view(iid, "verification_contact")
    clock.advance(days=1)
    engine.claim(walker.actor_for(view, "CAB"), iid, view.ref)
    walker.do(iid, "verification_contact", days=4, decision="adapte")
    with engine.session() as session:
        rows = journal.entries(session, iid)

    def at(command: str, step: str = "") -> datetime:
        return next(r.at for r in rows
                    if r.command == command and (bpmn_id_of(r.payload.get("task")) or "").startswith(step))

    started = rows[0].at
    result = Analytics(engine).compute(AnalyticsFilter(epci="CAB"))
    steps = {step.bpmn_id: step for step in result.steps}
    contact, avis, verification = steps["contact"], steps["avis_commune"], steps["verification_contact"]
    # The contact opens at the start, the commune's opinion when the contact is sent, and so on:
    # nobody claimed them, so each waited until its completion.
    assert contact.duration.median == (at("complete", "contact") - started).total_seconds() == 3 * 86400
    assert contact.duration.p90 == contact.waiting.median == 3 * 86400
    assert avis.duration.median == (at("complete", "avis_commune") - at("complete", "contact")).total_seconds()
    assert avis.duration.median == 2 * 86400 == avis.waiting.median
    # Claimed a day after it opened, completed four days later.
    opened = at("complete", "avis_commune")
    assert verification.waiting.median == (at("claim") - opened).total_seconds() == 86400
    assert verification.duration.median == (at("complete", "verification_contact") - opened).total_seconds()
    assert verification.duration.median == 5 * 86400
    assert (verification.opened, verification.completed, verification.open_now) == (1, 1, 0)
    later = [step for step in result.steps if step.open_now]
    assert later and all(step.duration.count == 0 and step.waiting.count == 0 for step in later)
    assert result.outcomes == {RUNNING: 1} and result.lifecycle.count == 0


def test_percentile_interpolates_between_ranks():
    assert percentile([], 0.5) is None
    assert percentile([4.0], 0.9) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile(list(map(float, range(11))), 0.9) == pytest.approx(9.0)
    assert percentile([0.0, 10.0], 0.9) == pytest.approx(9.0)
