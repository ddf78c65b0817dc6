"""The event log of dossiers, as process mining reads it: one trace per dossier, one event per
step completed, plus the start, every timer that fired and the porteur's withdrawal.

The events come from the journal, the record ``verify`` checks, never from a projection:

- ``start`` → the event :data:`START_ACTIVITY`, by the porteur;
- ``complete`` → the completed step's name in the dossier's pinned version, by the login that
  completed it, in the role of the step's lane;
- ``fire_timers`` → the name of the timer event that fired (``Date limite du dossier``), by the
  system. Which timer a ``fire_timers`` entry fired is not in its payload (it fires whatever is
  due), so the dossier's journal is replayed on its versions (:func:`engine.replay.replay_states`,
  the code ``verify`` runs: a migrated dossier moves to its new version at its ``migrate`` entry)
  and the timers waiting before the entry but not after it are named.
  Only dossiers holding such an entry are replayed, up to their last one; that replay is most of
  an export's time (``dsdt export csv`` of 1,000 simulated dossiers, 243 with a timer: 6.4 s on
  the shared 2-core test machine, about four fifths of it replaying). When the replay cannot
  reach the entry (an altered journal, models that no longer load, which ``verify`` reports) it
  is named :data:`TIMER_ACTIVITY`;
- ``withdraw`` → :data:`WITHDRAWAL_ACTIVITY`, by the porteur.

Claims, unclaims and delegations change who may act, not where the dossier is: they are not
events of the log. Dossiers are read :data:`CHUNK` at a time, so an export's memory holds one
chunk of journal rows, not the whole journal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .. import commands, roles
from ..errors import EngineError
from ..persistence.models import Deployment, Instance, JournalEntry
from ..queries import bpmn_id_of
from ..replay import dossier_models, replay_states

#: the activity of a dossier's start (the porteur opens their application)
START_ACTIVITY = "Ouverture du dossier"
#: the activity of the porteur's withdrawal
WITHDRAWAL_ACTIVITY = "Retrait du porteur"
#: the activity of a timer whose event cannot be named (the replay could not reach it)
TIMER_ACTIVITY = "Délai échu"
#: the ``lifecycle:transition`` of every event: the log records what was done, not when it began
LIFECYCLE = "complete"
#: the journal commands that are events of the log
EVENT_COMMANDS = (commands.START, commands.COMPLETE, commands.FIRE_TIMERS, commands.WITHDRAW)
#: dossiers read per query
CHUNK = 100

START, STEP, TIMER, WITHDRAWAL = "start", "step", "timer", "withdrawal"
_KIND = {commands.START: START, commands.COMPLETE: STEP, commands.FIRE_TIMERS: TIMER,
         commands.WITHDRAW: WITHDRAWAL}


@dataclass(frozen=True)
class Event:
    """One event of a trace: journal entry ``seq`` of the dossier."""

    seq: int
    kind: str  # START, STEP, TIMER or WITHDRAWAL
    activity: str  # the step's (or timer's) name, as the model names it
    at: datetime  # UTC
    resource: str  # the login that acted (``system`` for a timer)
    role: str | None  # the role it acted in; None for the system
    bpmn_id: str | None  # the step's (or the fired timers', joined by ``+``) BPMN id


@dataclass(frozen=True)
class Trace:
    """One dossier and its events, oldest first."""

    instance_id: int
    ref: str
    campaign: str
    epci: str | None
    porteur: str
    title: str | None
    status: str  # running | completed
    outcome: str | None
    reason: str | None
    jury_type: str | None
    version: int  # the process version the dossier is pinned to
    created_at: datetime
    events: list[Event]


def _names(models) -> dict[str, str]:
    """BPMN id → name of every task and event of the models (the step's name, else its id)."""
    names: dict[str, str] = {}
    for process in (models.spec, *models.subprocess_specs.values()):
        for spec in process.task_specs.values():
            bpmn_id = getattr(spec, "bpmn_id", None)
            if bpmn_id:
                names[bpmn_id] = getattr(spec, "bpmn_name", None) or bpmn_id
    return names


def _pending(state) -> set[str]:
    return {bpmn_id_of(ref) or ref for ref, _ in state.visible().timers}


def fired_timers(rows, models, script_engine, switch=None) -> dict[int, list[str]]:
    """Journal seq of each ``fire_timers`` entry → the BPMN ids of the timers it fired.

    ``rows``: every entry of one dossier, oldest first (claims included: replay needs them);
    ``models``: the version it started on, ``switch`` the models of a migration's target. The
    entries from the first one that cannot be re-applied on are left out (named generically).
    """
    fired: dict[int, list[str]] = {}
    last = max((row.seq for row in rows if row.command == commands.FIRE_TIMERS), default=0)
    pending: set[str] = set()
    try:
        for step in replay_states([row for row in rows if row.seq <= last], models, script_engine,
                                  switch=switch, copy_payloads=True):
            now = _pending(step.state)
            if step.row.command == commands.FIRE_TIMERS:
                fired[step.row.seq] = sorted(pending - now)
            pending = now
    except EngineError:
        pass  # nothing after the entry that cannot be re-applied is named
    return fired


class EventLog:
    """The traces of chosen dossiers, read from the journal of ``engine`` (a WorkflowEngine)."""

    def __init__(self, engine):
        self.engine = engine

    def traces(self, instance_ids: Iterable[int]) -> Iterator[Trace]:
        """The trace of each dossier of ``instance_ids`` that exists, by id."""
        ids = sorted(set(instance_ids))
        for start in range(0, len(ids), CHUNK):
            yield from self._chunk(ids[start:start + CHUNK])

    def _chunk(self, ids: list[int]) -> list[Trace]:
        engine = self.engine
        with engine.db.sessions() as session:
            found = session.execute(
                select(Instance, Deployment.version).join(Deployment, Deployment.id == Instance.deployment_id)
                .where(Instance.id.in_(ids)).order_by(Instance.id)).all()
            rows: dict[int, list] = {instance.id: [] for instance, _ in found}
            for row in session.execute(
                select(JournalEntry.instance_id, JournalEntry.seq, JournalEntry.command, JournalEntry.actor,
                       JournalEntry.at, JournalEntry.payload)
                .where(JournalEntry.instance_id.in_(ids)).order_by(JournalEntry.instance_id, JournalEntry.seq)
            ):
                rows[row.instance_id].append(row)
            traces = []
            for instance, version in found:
                known = dossier_models(session, engine.deployments, rows[instance.id], instance.deployment_id,
                                       instance.family)
                traces.append(self._trace(instance, version, rows[instance.id], known))
            session.expunge_all()
        return traces

    def _trace(self, instance: Instance, version: int, rows: list, known) -> Trace:
        fired = {}
        if any(row.command == commands.FIRE_TIMERS for row in rows):
            fired = fired_timers(rows, known.origin, self.engine.script_engine, switch=known.switch)
        on = known.models_by_entry(rows)  # a migrated dossier's entries name its steps in their version
        labels = {id(models): (_names(models), {bpmn_id: roles.role_for_lane(spec.lane)
                                                for bpmn_id, spec in models.user_tasks.items()})
                  for models in known.by_deployment.values()}
        events = []
        for row in rows:
            if row.command not in _KIND:
                continue
            names, step_roles = labels[id(on[row.seq])]
            payload = row.payload if isinstance(row.payload, dict) else {}
            bpmn_id, role, resource = None, roles.PORTEUR, row.actor
            if row.command == commands.START:
                activity = START_ACTIVITY
            elif row.command == commands.WITHDRAW:
                activity = WITHDRAWAL_ACTIVITY
            elif row.command == commands.COMPLETE:
                bpmn_id = bpmn_id_of(payload.get("task")) if isinstance(payload.get("task"), str) else None
                activity, role = names.get(bpmn_id, bpmn_id or "?"), step_roles.get(bpmn_id)
            else:
                timers = fired.get(row.seq) or []
                bpmn_id = "+".join(timers) or None
                activity = " + ".join(names.get(t, t) for t in timers) or TIMER_ACTIVITY
                role = None
            events.append(Event(row.seq, _KIND[row.command], activity, row.at, resource, role, bpmn_id))
        return Trace(instance.id, instance.ref, instance.campaign_code, instance.epci, instance.porteur,
                     instance.title, instance.status, instance.outcome, instance.reason, instance.jury_type,
                     version, instance.created_at, events)
