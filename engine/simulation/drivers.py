"""Two ways to run the same simulated lifecycle: the durable engine, and plain in-memory SpiffWorkflow.

Both expose start / tasks / complete / withdraw / fire_due / outcome and count the commands they
apply, so ``dsdt simulate`` can compare their costs on identical work.
"""

from __future__ import annotations

import heapq
from datetime import date, datetime

from sqlalchemy import func, select

from .. import campaigns, commands, juries, runtime
from .. import jury_sessions as jury_sessions_module
from ..clock import FixedClock, at
from ..commands import Actor, LiveState
from ..deployments import read_model_files
from ..errors import Conflict
from ..jury_sessions import JurySessions
from ..persistence.models import JournalEntry
from ..roles import INSTRUCTEUR, JURY_TERRITORIAL, PRESIDENT_JURY
from ..views import TaskView
from . import sessions
from .fake_data import attach_sample

_OFFICER = Actor(f"{INSTRUCTEUR}.region", frozenset({INSTRUCTEUR}))


class DurableDriver:
    """Runs commands through :class:`~engine.service.WorkflowEngine` (database, journal, projections)."""

    def __init__(self, engine, clock: FixedClock):
        self.engine = engine
        self.clock = clock
        self.started: list[int] = []

    @property
    def commands(self) -> int:
        """The journal entries of the applications this driver started: what the journal counts.

        Counted in the journal, not by the driver: a deadline that passed fires as a command of
        its own before a person's command (committed even when that command then fails).
        """
        count = 0
        with self.engine.db.engine.connect() as connection:
            for at_ in range(0, len(self.started), 500):  # bounded IN lists
                count += connection.execute(
                    select(func.count()).select_from(JournalEntry)
                    .where(JournalEntry.instance_id.in_(self.started[at_:at_ + 500]))
                ).scalar_one()
        return count

    def start(self, porteur: Actor, campaign_code: str) -> int:
        key = self.engine.start(porteur, campaign_code)
        self.started.append(key)
        # The porteur uploads the file the generated forms attach: the engine accepts only the
        # dossier's own files (the in-memory driver, with no attachment table, checks nothing).
        attach_sample(self.engine.db, self.clock, key, porteur.login)
        return key

    def tasks(self, key: int) -> list[TaskView]:
        return self.engine.task_views(key)

    def complete(self, actor: Actor, key: int, ref: str, data: dict) -> None:
        self.engine.complete(actor, key, ref, data)

    def withdraw(self, actor: Actor, key: int, motif: str) -> None:
        self.engine.withdraw(actor, key, motif)

    def fire_due(self) -> None:
        self.engine.fire_due_timers()

    def territorial_sessions(self, campaign_code: str) -> list[tuple[str, date]]:
        """(jury code, date) of the campaign's territorial sessions."""
        with self.engine.db.engine.connect() as connection:
            kinds = {row.code: row.kind for row in juries.juries(connection)}
            return [(s.jury_code, s.day) for s in juries.sessions(connection, campaign_code)
                    if kinds[s.jury_code] == juries.TERRITORIAL]

    def hold_session(self, jury_code: str, campaign_code: str, path: str) -> int:
        """The session opens and takes ``path``; returns how many dossiers it sent to the regional jury."""
        jury_sessions = JurySessions(self.engine)
        session = jury_sessions.session(jury_code, campaign_code)
        try:
            if path == sessions.DECLARED:
                return len(jury_sessions.declare_impossibility(_OFFICER, jury_code, campaign_code, sessions.MOTIF))
            president = Actor(session.president, frozenset({PRESIDENT_JURY, JURY_TERRITORIAL}),
                              frozenset({session.jury.epci}))
            chosen = sessions.present([seat.login for seat in session.members], session.president,
                                      session.session.quorum, path)
            return len(jury_sessions.record_attendance(president, jury_code, campaign_code, chosen).reached)
        except Conflict as err:
            if err.code == "jury.nothing_waiting":
                return 0
            raise

    def outcome(self, key: int) -> tuple[bool, str | None, str | None]:
        row = self.engine.instance(key)
        return row.status == "completed", row.outcome, row.jury_type


class MemoryDriver:
    """The same lifecycle on plain SpiffWorkflow objects: no database, no journal, no sandbox."""

    def __init__(self, root, clock: FixedClock, campaign: tuple[str, str, dict], script_engine=None):
        from ..bpmn.parser import parse_models
        from ..scripts import make_plain_script_engine

        self.models = parse_models(read_model_files(root))
        self.script_engine = script_engine or make_plain_script_engine()
        self.clock = clock
        self.campaign = campaigns.snapshot(campaigns.CampaignRow(*campaign, is_open=True))
        self.states: dict[int, LiveState] = {}
        self.timers: list[tuple[datetime, int]] = []
        self.next_due: dict[int, datetime | None] = {}
        self.commands = 0

    def _after(self, key: int) -> None:
        due = [when for _, when in runtime.pending_timers(self.states[key].wf)]
        self.next_due[key] = min(due, default=None)
        if due:
            heapq.heappush(self.timers, (min(due), key))

    def start(self, porteur: Actor, campaign_code: str) -> int:
        key = len(self.states) + 1
        reference = f"{campaign_code}-{key:05d}"
        payload = commands.start_payload(self.models.contract, porteur.login, reference, self.campaign)
        with at(self.clock.now()):
            self.states[key] = commands.new_state(self.models, self.script_engine, payload)
        self.commands += 1
        self._after(key)
        return key

    def tasks(self, key: int) -> list[TaskView]:
        state = self.states[key]
        if runtime.is_finished(state.wf):
            return []
        return [TaskView.of(human, None) for human in runtime.ready_human_tasks(state.wf)]

    def _apply(self, key: int, command: str, payload: dict) -> None:
        now = self.clock.now()
        state = self.states[key]
        due = self.next_due.get(key)
        if due is not None and due <= now:
            # Like the durable engine, a passed deadline closes its step before anyone acts.
            with at(now):
                commands.apply(state, commands.FIRE_TIMERS, {})
            self.commands += 1
            self._after(key)
        with at(now):
            commands.apply(state, command, payload, contract=self.models.contract)
        self.commands += 1
        self._after(key)

    def complete(self, actor: Actor, key: int, ref: str, data: dict) -> None:
        self._apply(key, commands.COMPLETE, {"task": ref, "data": data})

    def withdraw(self, actor: Actor, key: int, motif: str) -> None:
        withdrawal = self.models.contract.withdrawal
        if withdrawal is None or not runtime.can_catch(self.states[key].wf, withdrawal.message):
            raise Conflict("This application can no longer be withdrawn", code="withdraw.too_late")
        self._apply(key, commands.WITHDRAW, {"motif": motif})

    def fire_due(self) -> None:
        now = self.clock.now()
        while self.timers and self.timers[0][0] <= now:
            _, key = heapq.heappop(self.timers)
            wf = self.states[key].wf
            if not runtime.is_finished(wf) and any(when <= now for _, when in runtime.pending_timers(wf)):
                with at(now):
                    commands.apply(self.states[key], commands.FIRE_TIMERS, {})
                self.commands += 1
                self._after(key)

    def territorial_sessions(self, campaign_code: str) -> list[tuple[str, date]]:
        """(jury code, date) of the territorial sessions in the campaign's snapshot."""
        return [(jury["code"], date.fromisoformat(jury["session"]))
                for jury in self.campaign.get("jurys", {}).get("territoriaux", {}).values()]

    def hold_session(self, jury_code: str, campaign_code: str, path: str) -> int:
        """The same session paths as the durable driver's, on the in-memory states."""
        jury = next(j for j in self.campaign["jurys"]["territoriaux"].values() if j["code"] == jury_code)
        correlation = {"jury_code": jury_code, "jury_session": jury["session"]}
        members = jury["membres"]
        chosen = sessions.present(members, jury["president"], jury["quorum"], path)
        reached = 0
        for key, state in self.states.items():
            if runtime.is_finished(state.wf) or not runtime.awaits(state.wf, runtime.BpmnMessage,
                                                                   jury_sessions_module.MESSAGE, correlation):
                continue
            if path == sessions.QUORUM_MET:
                self._apply(key, commands.JURY_RECORD, {"record": "presences", **correlation, "presents": chosen})
                continue
            declared = path == sessions.DECLARED
            cause = jury_sessions_module.CAUSE_DECLARED if declared else jury_sessions_module.CAUSE_QUORUM
            data = {"cause": cause, "motif": sessions.MOTIF, "presents": None if path == sessions.DECLARED else chosen}
            self._apply(key, commands.MESSAGE, {"message": jury_sessions_module.MESSAGE, "correlation": correlation,
                                                "data": data, "motif": sessions.MOTIF})
            reached += 1
        return reached

    def outcome(self, key: int) -> tuple[bool, str | None, str | None]:
        wf = self.states[key].wf
        data = runtime.current_data(wf)
        contract = self.models.contract
        return runtime.is_finished(wf), contract.value("outcome", data), contract.value("jury_type", data)
