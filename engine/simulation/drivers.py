"""Two ways to run the same simulated lifecycle: the durable engine, and plain in-memory SpiffWorkflow.

Both expose start / tasks / complete / withdraw / fire_due / outcome and count the commands they
apply, so ``dsdt simulate`` can compare their costs on identical work.
"""

from __future__ import annotations

import heapq
from datetime import datetime

from sqlalchemy import func, select

from .. import campaigns, commands, runtime
from ..clock import FixedClock, at
from ..commands import Actor, LiveState
from ..deployments import read_model_files
from ..errors import Conflict
from ..persistence.models import JournalEntry
from ..views import TaskView
from .fake_data import attach_sample


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

    def outcome(self, key: int) -> tuple[bool, str | None, str | None]:
        wf = self.states[key].wf
        data = runtime.current_data(wf)
        contract = self.models.contract
        return runtime.is_finished(wf), contract.value("outcome", data), contract.value("jury_type", data)
