"""The engine's entry point: every change to an instance is one command in one transaction.

A command loads the instance (and its version), applies the change with
:func:`engine.commands.apply` at the clock's instant, appends the journal entry, stores the
serialized state when a checkpoint is due, refreshes the inbox and timer projections, then
commits. A concurrent change makes the version check fail and raises
:class:`~engine.errors.Conflict`.

Deserialized workflows are cached per instance and reused only when the database still holds the
version they were cached at; a copy a few versions behind re-applies the journal entries it
missed, so several processes can share one database safely.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections import Counter, OrderedDict
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from . import (
    attachments,
    campaigns,
    commands,
    conventions,
    events,
    form_options,
    inbox,
    incidents,
    journal,
    replay,
    runtime,
    step_spans,
    timers,
    transient,
)
from .bpmn.parser import model_code
from .bpmn.serializer import StateSerializer
from .clock import Clock, SystemClock, at
from .commands import SYSTEM, Actor, LiveState
from .config import EngineConfig
from .deployments import DeploymentInfo, DeploymentStore, read_model_files
from .errors import Conflict, EngineError, Forbidden, Invalid, NotFound, ScriptFailed, Unavailable
from .fingerprint import visible_fingerprint
from .forms import field_errors, make_validator, validate_form
from .limits import check_text
from .notifications import Notifier, NullNotifier
from .persistence import instances
from .persistence.db import Database
from .persistence.instances import InstanceRecord
from .persistence.raw import compile_all
from .reads import EngineReads
from .roles import PORTEUR, READ_ONLY
from .scripts.fastpath import is_cheap, is_cheap_script

log = logging.getLogger(__name__)


#: commands that run model code, and the kind of incident their success resolves
_INCIDENT_KIND = {commands.FIRE_TIMERS: incidents.TIMER, commands.COMPLETE: incidents.COMMAND,
                  commands.WITHDRAW: incidents.COMMAND, commands.MESSAGE: incidents.COMMAND,
                  commands.SIGNAL: incidents.COMMAND}


#: the replay budget (ms) before this process has measured what storing a state costs
_FIRST_STORE_MS = 2.0


def _system_check(connection, instance, state) -> tuple[dict, None]:
    """The check of a system command (firing timers): nothing to refuse, an empty payload."""
    return {}, None


class WorkflowEngine(EngineReads):
    """Deployments, instances and commands over one database (reads: :class:`EngineReads`)."""

    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        script_engine=None,
        cache_size: int = 2048,
        notifier: Notifier | None = None,
        checkpoint_every: int = 32,
        checkpoint_replay_ms: float | None = None,
    ):
        self.db = db
        self.notifier = notifier or NullNotifier()
        self.clock = clock or SystemClock()
        if script_engine is None:
            from .scripts import SandboxedScriptEngine, SandboxPool

            script_engine = SandboxedScriptEngine(SandboxPool())
        self.script_engine = script_engine
        self.deployments = DeploymentStore()
        self.serializer = StateSerializer()
        #: instance id → (version, journal seq, live state) of what this process last saw
        self._cache: OrderedDict[int, tuple[int, int, LiveState]] = OrderedDict()
        self._cache_size = cache_size
        #: journal entries between two stored states (1: store the state after every command)
        self.checkpoint_every = max(1, checkpoint_every)
        #: also store the state once replaying the entries since the last one would take this
        #: many milliseconds (0: as long as storing a state takes, measured; None: by count only)
        self.checkpoint_replay_ms = checkpoint_replay_ms
        #: milliseconds to serialize a state, a moving average of this process's measurements
        self._store_ms: float | None = None
        self._cache_lock = threading.Lock()
        # One writer at a time on SQLite (it allows no more, and a deferred transaction that read
        # before another thread's commit cannot write); PostgreSQL needs no such lock.
        self._write_lock = threading.RLock() if db.is_sqlite else contextlib.nullcontext()
        #: PostgreSQL: a command locks its instance row first (``FOR UPDATE``), and a transient
        #: failure (deadlock, lost connection) runs it again; SQLite's one writer needs neither.
        self._row_locks = not db.is_sqlite
        self._attempts = 1 if db.is_sqlite else transient.ATTEMPTS
        # Commands and readers of one instance take its stripe, so a reader never copies a
        # workflow a command of this process is changing.
        self._stripes = [threading.RLock() for _ in range(64)]
        self._validators: dict[tuple[int, str], object] = {}
        #: failures of model code per dossier: listed for process owners, retried (engine.incidents)
        self.incidents = incidents.IncidentCenter(db, self.clock, self.fire_timers_of)
        #: what this process's timer passes claimed, fired, missed and failed (engine.timers.run_pass)
        self.timer_counts: Counter = Counter()

    @classmethod
    def from_config(cls, config: EngineConfig, clock: Clock | None = None, upgrade: bool | None = True,
                    notifier: Notifier | None = None) -> WorkflowEngine:
        """An engine on ``config``'s database with a sandbox pool for scripts.

        ``upgrade``: True migrates the schema (under a lock: processes starting together migrate
        one at a time); None, for a service: migrates SQLite (the embedded default, one process)
        but requires a PostgreSQL schema to be current already, raising :class:`Unavailable`
        that says to run ``dsdt migrate``; False does neither.
        """
        from .scripts import SandboxedScriptEngine, SandboxPool

        db = Database(config.database_url, synchronous=config.sqlite_synchronous, pool=config.pool)
        try:
            if upgrade or (upgrade is None and db.is_sqlite):
                db.upgrade()
            elif upgrade is None:
                db.require_current()
        except BaseException:
            db.dispose()
            raise
        pool = SandboxPool(size=config.script_workers, time_limit=config.script_time_limit,
                           memory_limit=config.script_memory_mb * 1024 * 1024)
        clock = clock or config.clock()  # DSDT_CLOCK_OFFSET's virtual clock, if any (tests and demos)
        engine = cls(db, clock, SandboxedScriptEngine(pool), cache_size=config.cache_size, notifier=notifier,
                     checkpoint_every=config.checkpoint_every, checkpoint_replay_ms=config.checkpoint_replay_ms)
        engine.warm_up()
        return engine

    def warm_up(self) -> None:
        """Prepare at start what every process's first command would otherwise pay (issue 13):
        SQLAlchemy's mappers and the hand-written statements, the current deployment's models
        parsed and their code compiled (per content hash, once per process), its forms' validators
        and which of its scripts run in-process (all in memory). A new web or timer worker's first command then costs
        what a cold load does (``dsdt bench``: fresh-process first command)."""
        from sqlalchemy.orm import configure_mappers

        configure_mappers()
        compile_all(self.db.engine.dialect)  # the hand-written SQL and its type processors
        with self.db.engine.connect() as connection:
            current = self.deployments.current_id(connection)
            if current is not None:
                models = self.deployments.models(connection, current)
                for form in models.forms:
                    if form.endswith(".schema.json"):  # each form's compiled JSON Schema
                        self._validator(connection, current, form)
                # which scripts and expressions run in-process (an AST walk each, cached per process)
                for family in (models.families or {None: models}).values():
                    for code in model_code(family):
                        (is_cheap_script if code.mode == "exec" else is_cheap)(code.source)

    def close(self) -> None:
        pool = getattr(self.script_engine, "pool", None)
        if pool is not None:
            pool.close()
        self.db.dispose()

    # -- deployments and campaigns -------------------------------------------------------------

    def deploy(self, files: dict[str, bytes], *, author: str, comment: str = "") -> DeploymentInfo:
        """Deploy model files as a new version (or keep the current one if nothing changed)."""
        with self.db.sessions.begin() as session:
            info = self.deployments.deploy(
                session, files, author=author, comment=comment, now=self.clock.now()
            )
            if info.created:  # a fix may have been deployed: dossiers set aside get another try
                incidents.retry_all(session, self.clock.now())
            return info

    def deploy_directory(self, root: Path, *, author: str, comment: str = "") -> DeploymentInfo:
        return self.deploy(read_model_files(root), author=author, comment=comment)

    def save_campaign(self, code: str, libelle: str, data: dict, is_open: bool = True) -> None:
        with self.db.sessions.begin() as session:
            campaigns.upsert(session, code, libelle, data, is_open)

    # -- commands --------------------------------------------------------------------------------

    def start(self, actor: Actor, campaign_code: str) -> int:
        """Start an application for the porteur ``actor``; returns the instance id."""
        if not actor.has(PORTEUR):
            raise Forbidden("Only a porteur de projet can start an application", code="dossier.start_forbidden")
        return self.start_instance(actor, campaign_code)

    def start_instance(self, actor: Actor, campaign_code: str, family: str | None = None,
                       epci: str | None = None) -> int:
        """Start an instance of the current deployment's process ``family`` (None: a porteur's
        application) in a campaign, for ``epci`` if given; returns its id. The caller has checked
        that ``actor`` may (:meth:`start`, :func:`engine.conventions.start_convention`)."""
        # Read before the write transaction: the priorities of each EPCI's signed convention.
        offered = conventions.offered_priorities(self, campaign_code) if family is None else None
        with self._write_lock, self.db.engine.begin() as connection:
            now = self.clock.now()
            campaign = campaigns.get(connection, campaign_code)
            if not campaign.is_open:
                raise Conflict(f"Campaign {campaign_code} is closed to new applications",
                               code="campaign.closed", params={"campaign": campaign_code})
            deployment_id = self.deployments.current_id(connection)
            if deployment_id is None:
                raise NotFound("No deployment yet: run `dsdt deploy` first", code="deployment.none")
            models = self.deployments.models(connection, deployment_id, family)
            instance = instances.create(
                connection, ref=f"pending-{uuid.uuid4().hex}", deployment_id=deployment_id,
                campaign_code=campaign.code, porteur=actor.login, serializer_version=self.serializer.version,
                created_at=now, updated_at=now, family=models.contract.family, epci=epci)
            instance.ref = conventions.reference(campaign.code, family, instance.id)
            snapshot = conventions.with_priorities(campaigns.snapshot(campaign), offered)
            payload = commands.start_payload(models.contract, actor.login, instance.ref, snapshot, epci)
            began = time.perf_counter()
            with at(now):
                state = commands.new_state(models, self.script_engine, payload)
            state.replay_ms = (time.perf_counter() - began) * 1000
            checkpoint = self._record(connection, instance, state, commands.START, actor, now, payload)
            instances.write(connection, instance, checkpoint, created=True)
        self._remember(instance, state)
        return instance.id

    def complete(
        self, actor: Actor, instance_id: int, task_ref: str, data: dict, expected_version: int | None = None
    ) -> None:
        """Complete an open task with form data validated against its schema."""

        def check(connection, instance, state):
            human = runtime.find_ready_task(state.wf, task_ref, state.ready())
            self._authorize_task(actor, instance, state, human)
            # Only files of this dossier, whoever sends the data (page, API, CLI, simulator).
            schema = self.deployments.models(connection, instance.deployment_id).forms[human.form]
            validate_form(
                self._validator(connection, instance.deployment_id, human.form, human.task.data),
                data,
                form_name=human.form,
                bpmn_id=human.bpmn_id,
                foreign_attachments=attachments.foreign_paths(connection, instance.id, schema, data),
            )
            return {"task": task_ref, "data": data}, human

        self._run(actor, instance_id, commands.COMPLETE, check, expected_version)

    def form_errors(self, deployment_id: int, form: str, data: dict,
                    task_data: dict | None = None) -> dict[str, list[str]]:
        """Per-field errors of ``data`` against a form of a deployment, completing nothing: a page
        that refuses an upload or saves a draft shows them with the refusal, every error at once
        (``task_data``: the data the task sees, for the choices it offers)."""
        with self.db.engine.connect() as connection:
            return field_errors(self._validator(connection, deployment_id, form, task_data), data)

    def claim(self, actor: Actor, instance_id: int, task_ref: str) -> None:
        def check(connection, instance, state):
            human = runtime.find_ready_task(state.wf, task_ref, state.ready())
            self._authorize_task(actor, instance, state, human)
            return {"task": task_ref, "login": actor.login}, None

        self._run(actor, instance_id, commands.CLAIM, check)

    def unclaim(self, actor: Actor, instance_id: int, task_ref: str) -> None:
        def check(connection, instance, state):
            if state.claims.get(task_ref) != actor.login:
                raise Conflict("You have not claimed this task", code="task.not_claimed")
            return {"task": task_ref}, None

        self._run(actor, instance_id, commands.UNCLAIM, check)

    def delegate(self, actor: Actor, instance_id: int, task_ref: str, colleague: Actor) -> None:
        """Hand an open task to a colleague who holds the task's role and scope."""

        def check(connection, instance, state):
            human = runtime.find_ready_task(state.wf, task_ref, state.ready())
            self._authorize_task(actor, instance, state, human)
            if human.assignee is not None:
                raise Conflict("This task is assigned by the process to one person and cannot be delegated",
                               code="task.not_delegable")
            self._authorize_task(colleague, instance, LiveState(state.wf), human)
            return {"task": task_ref, "login": colleague.login}, None

        self._run(actor, instance_id, commands.DELEGATE, check)

    def withdraw(self, actor: Actor, instance_id: int, motif: str) -> None:
        """The porteur withdraws the application (any time before the convention)."""
        check_text("motif", motif)  # journaled and shown on every dossier list: bounded

        def check(connection, instance, state):
            if instance.porteur != actor.login:
                raise Forbidden("Only the porteur of this application can withdraw it", code="withdraw.forbidden")
            if not motif or not motif.strip():
                raise Invalid("Give a reason for withdrawing",
                              code="withdraw.reason_required", errors={"motif": ["required"]})
            models = self.deployments.models(connection, instance.deployment_id, instance.family)
            withdrawal = models.contract.withdrawal
            if withdrawal is None or not runtime.can_catch(state.wf, withdrawal.message):
                raise Conflict("This application can no longer be withdrawn", code="withdraw.too_late")
            return {"motif": motif.strip()}, None

        self._run(actor, instance_id, commands.WITHDRAW, check)

    def deliver_message(self, actor: Actor, message: str, correlation: dict, payload: dict | None = None) -> list[int]:
        """Deliver a message to every running dossier waiting for it whose data matches ``correlation``
        (:mod:`engine.events`): one journaled command per dossier; returns the ids reached."""
        events.check_sender(actor)
        message = events.check_name("message", message)
        correlation, payload = events.check_correlation(correlation), events.check_payload(payload)

        def awaited(state):
            return runtime.awaits(state.wf, runtime.BpmnMessage, message, correlation)

        return self._broadcast(actor, commands.MESSAGE, correlation, awaited,
                               {"message": message, "correlation": correlation, "data": payload})

    def send_signal(self, actor: Actor, signal: str, payload: dict | None = None) -> list[int]:
        """Send a signal to every running dossier waiting for it; returns the ids reached."""
        events.check_sender(actor)
        signal = events.check_name("signal", signal)
        payload = events.check_payload(payload)

        def awaited(state):
            return runtime.awaits(state.wf, runtime.SignalEventDefinition, signal)

        return self._broadcast(actor, commands.SIGNAL, None, awaited, {"signal": signal, "data": payload})

    def _broadcast(self, actor: Actor, command: str, correlation: dict | None, awaited, payload: dict) -> list[int]:
        with self.db.engine.connect() as connection:
            candidates = events.running_instances(connection, correlation, self.deployments)
        return self.deliver(actor, command, candidates, awaited, payload)

    def deliver(self, actor: Actor, command: str, instance_ids, awaited, payload: dict) -> list[int]:
        """Journal ``command`` with ``payload`` on each of ``instance_ids`` whose workflow ``awaited``
        accepts (a callable on the live state), one command per dossier; the others, and dossiers
        closed meanwhile, are skipped. Returns the ids reached."""

        def check(connection, instance, state):
            if not awaited(state):
                raise Conflict("This dossier does not wait for it", code="event.not_awaited")
            return payload, None

        reached = []
        for instance_id in instance_ids:
            try:
                self._run(actor, instance_id, command, check)
            except Conflict as err:
                if err.code in ("event.not_awaited", "dossier.closed"):
                    continue  # not waiting (or closed meanwhile): not a receiver
                raise
            reached.append(instance_id)
        return reached

    def fire_due_timers(self, limit: int = 1000, batch: int = timers.BATCH) -> int:
        """Fire due timers across all instances (the worker's pass); returns how many instances moved.

        Workers claim batches of due dossiers (:func:`engine.timers.run_pass`) and fire each in
        its own transaction, which locks the instance row first (``FOR UPDATE SKIP LOCKED`` on
        PostgreSQL), so concurrent workers share the work and never fire one timer twice. An
        instance whose timers cannot fire, for whatever reason, gets an incident
        (:mod:`engine.incidents`) and is skipped for the rest of the pass, then waits for its
        back-off: one bad dossier never holds up the others. ``self.timer_counts`` adds up what
        the passes claimed, fired, missed and failed.
        """
        return timers.run_pass(self.db, self.clock.now, self.fire_timers_of, limit, batch, self.timer_counts)

    def fire_timers_of(self, instance_id: int) -> bool | None:
        """Fire one instance's due timers: True if it moved, False if nothing was due (or another
        worker has them, or it changed meanwhile), None if it failed (an incident is recorded)."""
        def fire(connection):
            # The instance row first, then its timer rows: a person's command takes them in the
            # same order, so the two never deadlock. Held by a command: it fires them itself.
            instance = instances.fetch(connection, instance_id, lock=self._row_locks, skip_locked=True)
            if instance is None or not timers.lock_due(connection, instance_id, self.clock.now(),
                                                       self._row_locks):
                return None  # another worker or a command has it, or nothing is due any more
            return self._execute(connection, SYSTEM, instance, commands.FIRE_TIMERS, _system_check, None)

        try:
            done = self._transaction(instance_id, fire, "firing timers")
            if done is None:
                return False
        except Conflict:
            return False  # the instance moved meanwhile: the next pass looks again
        except (Unavailable, *incidents.INFRASTRUCTURE):
            raise  # the database failed, not the dossier: the worker runs the pass again later
        except Exception as err:
            # Any failure of this dossier (its model's code, its stored state...) is its incident.
            # Not BaseException: KeyboardInterrupt and SystemExit are the worker being stopped (a
            # script's own reach it as a WorkflowTaskException from the sandbox).
            log.exception("firing the timers of instance %s failed", instance_id)
            with self._write_lock:
                incidents.record_apart(self.db, instance_id, incidents.TIMER, err, self.clock.now())
            return None
        self._remember(*done)
        return True

    # -- machinery ---------------------------------------------------------------------------------

    def _run(self, actor, instance_id, command, check, expected_version=None) -> None:
        """Run one command in its own transaction, after firing the instance's due timers.

        A deadline that passed closes its step before anyone acts on it: the timers fire as their
        own journaled command, committed even if the actor's command then fails. Two rounds at
        most, so a model whose timer never settles cannot hold a command forever.
        """
        if actor.roles and actor.roles <= READ_ONLY:
            raise Forbidden(f"{actor.login} holds only read-only roles and may change no dossier",
                            code="role.read_only", instance_id=instance_id)
        for round_ in range(3):
            seen = {"due": False}

            def one_round(connection, round_=round_, seen=seen):
                # Locked first on PostgreSQL (see fire_timers_of); waiting here for another command
                # of this dossier to commit, then reading what it left.
                instance = instances.fetch(connection, instance_id, lock=self._row_locks)
                seen["due"] = (
                    round_ < 2
                    and instance is not None
                    and command != commands.FIRE_TIMERS
                    and instance.status == "running"
                    and instance.next_timer_at is not None
                    and instance.next_timer_at <= self.clock.now()
                )
                if seen["due"]:
                    return self._execute(connection, SYSTEM, instance, commands.FIRE_TIMERS, _system_check, None)
                return self._execute(connection, actor, instance, command, check, expected_version)

            try:
                done = self._transaction(instance_id, one_round, command)
            except ScriptFailed as err:  # rolled back; the process owners are told (its own transaction)
                kind = incidents.TIMER if seen["due"] else incidents.COMMAND
                with self._write_lock:
                    incidents.record_apart(self.db, instance_id, kind, err, self.clock.now())
                raise
            self._remember(*done)
            if not seen["due"]:
                return

    def _transaction(self, instance_id: int, body, what: str):
        """``body(connection)`` in one transaction under the instance's guard, committed; run
        again from the start (PostgreSQL) when it fails transiently before its commit.

        Safe to run again: the rolled-back attempt left nothing, and ``body`` reads everything
        anew (its cached workflow was taken out of the cache by :meth:`_load`). A failure during
        the commit is not retried: whether it was recorded is unknown, and a command must not
        run twice. Still failing after the attempts: :class:`Unavailable`.
        """
        def attempt():
            committing = False
            try:
                with self._guard(instance_id), self.db.engine.begin() as connection:
                    result = body(connection)
                    committing = True  # leaving the block commits
            except transient.DATABASE_ERRORS as err:
                if not transient.is_transient(err):
                    raise
                if committing:
                    raise transient.unavailable(err) from err
                raise transient.Retry() from err
            return result

        return transient.run(attempt, self._attempts, f"{what} on instance {instance_id}")

    @contextlib.contextmanager
    def _guard(self, instance_id: int):
        """Hold the write lock (SQLite) then the instance's stripe, in that order."""
        with self._write_lock, self._stripes[instance_id % len(self._stripes)]:
            yield

    def _execute(
        self,
        connection: Connection,
        actor: Actor,
        instance: InstanceRecord | None,
        command: str,
        check,
        expected_version: int | None,
    ) -> tuple[InstanceRecord, LiveState]:
        """Apply one command inside ``connection``'s transaction; the caller commits, then caches.

        ``check(connection, instance, state)`` raises if the actor may not run the command, else
        returns its journaled payload and the open task it found (or ``None``).
        """
        if instance is None:
            raise NotFound("This dossier does not exist", code="dossier.not_found")
        instance_id = instance.id
        if expected_version is not None and instance.version != expected_version:
            raise Conflict(
                "This dossier changed since you opened it: reload it and try again",
                code="dossier.changed", instance_id=instance_id
            )
        if instance.status != "running":
            raise Conflict("This dossier is closed", code="dossier.closed", instance_id=instance_id)
        state = self._load(connection, instance)
        try:
            payload, human = check(connection, instance, state)
            now = self.clock.now()
            try:
                began = time.perf_counter()
                with at(now):
                    models = self.deployments.models(connection, instance.deployment_id, instance.family)
                    commands.apply(state, command, payload, human, models.contract)
                state.replay_ms += (time.perf_counter() - began) * 1000
                checkpoint = self._record(connection, instance, state, command, actor, now, payload)
            except (EngineError, IntegrityError, *incidents.INFRASTRUCTURE):
                raise
            except Exception as err:
                # Model code raised something of its own (a timer expression's value SpiffWorkflow
                # cannot use, a script result the journal cannot encode): the model's failure.
                raise incidents.model_failure(err, state.wf, instance_id) from err
            if not instances.write(connection, instance, checkpoint):
                raise Conflict("Someone else changed this dossier at the same time: reload it and try again",
                               code="dossier.concurrent",
                               instance_id=instance_id)
            if command in _INCIDENT_KIND:
                incidents.resolve(connection, instance_id, _INCIDENT_KIND[command], now)
        except IntegrityError as err:  # the journal's (instance, seq) key: a concurrent command won
            raise Conflict(
                "Someone else changed this dossier at the same time: reload it and try again",
                code="dossier.concurrent",
                instance_id=instance_id,
            ) from err
        except EngineError as err:
            err.instance_id = err.instance_id or instance_id
            if isinstance(err, ScriptFailed):
                incidents.complete_failure(err, state.wf)
            raise
        return instance, state

    def _record(self, connection, instance, state: LiveState, command, actor, now, payload) -> bool:
        """Journal the command and refresh the instance row and projections; True for a checkpoint.

        The serialized state is stored only now and then (:meth:`_checkpoint_due`): serializing a
        whole workflow costs more than running most commands, and the journal entries after the
        stored state rebuild it exactly (:meth:`_deserialize`).
        """
        seen = state.visible()
        ready, data, pending = seen.ready, seen.data, seen.timers
        journal.append(connection, instance, command, actor.login, now, payload,
                       visible_fingerprint(seen, state.claims))
        checkpoint = self._checkpoint_due(instance, state)
        if checkpoint:
            began = time.perf_counter()
            instance.state = self.serializer.dumps(state.wf)
            took = (time.perf_counter() - began) * 1000
            self._store_ms = took if self._store_ms is None else 0.8 * self._store_ms + 0.2 * took
            state.replay_ms = 0.0
            instance.state_seq = instance.journal_seq
            instance.serializer_version = self.serializer.version
        instance.claims = dict(state.claims)
        instance.updated_at = now
        contract = self.deployments.models(connection, instance.deployment_id, instance.family).contract
        instance.epci = contract.value("epci", data) or instance.epci
        instance.title = contract.value("title", data) or instance.title
        instance.jury_type = contract.value("jury_type", data) or instance.jury_type
        if seen.finished:
            instance.status = "completed"
            instance.outcome = contract.value("outcome", data)
            instance.reason = contract.value("reason", data)
        instance.next_timer_at = min((when for _, when in pending), default=None)
        known = state.projections or {}
        previous_tasks = known.get("tasks")
        if previous_tasks is None and command != commands.START:
            previous_tasks = inbox.current(connection, instance.id)
        state.projections = {
            "timers": timers.refresh(connection, instance.id, pending, known.get("timers")),
            "tasks": inbox.refresh(
                connection,
                instance,
                ready,
                state.claims,
                instance.next_timer_at,
                now,
                previous_tasks if command != commands.START else {},
                campaigns.service_days(contract.campaign_of(data)),
            ),
        }
        step_spans.record(connection, instance, previous_tasks if command != commands.START else {}, ready,
                          command, payload, now)
        new_tasks = inbox.opened(previous_tasks, ready)
        if new_tasks:
            self.notifier.tasks_opened(connection, instance, new_tasks, now)
        return checkpoint

    def _checkpoint_due(self, instance: InstanceRecord, state: LiveState) -> bool:
        """Whether to store the state with this entry.

        By replay cost: once replaying the entries since the stored state (measured while running
        or replaying them) would take as long as storing a state does (measured too), or
        ``checkpoint_replay_ms``. Each stored state then costs the write path no more than the
        replay it saves a cold load, and a cold load replays at most that long whatever the
        dossier's age (``dsdt bench``: cold completion by task). ``checkpoint_every`` entries at
        most in any case.
        """
        if instance.journal_seq - instance.state_seq >= self.checkpoint_every:
            return True
        if self.checkpoint_replay_ms is None:
            return False
        budget = self.checkpoint_replay_ms or self._store_ms or _FIRST_STORE_MS
        return state.replay_ms >= budget

    def _load(self, connection: Connection, instance: InstanceRecord) -> LiveState:
        """The instance's live state: cached, caught up from the journal, or restored."""
        with self._cache_lock:
            cached = self._cache.pop(instance.id, None)
        if cached is not None:
            version, seq, state = cached
            if version == instance.version:
                return state
            if seq < instance.journal_seq:
                # Another process moved the dossier on: re-apply what it journaled to our copy,
                # usually one or two commands instead of a restore and a longer replay.
                try:
                    models = self.deployments.models(connection, instance.deployment_id, instance.family)
                    tail = journal.entries_after(connection, instance.id, seq)
                    began, owed = time.perf_counter(), state.replay_ms
                    state = replay.rebuild(state, tail, models, self.script_engine)
                except EngineError:
                    log.warning("instance %s: catching up from the journal failed; restoring it", instance.id)
                else:
                    # Another process may have stored a state meanwhile: then this overestimates.
                    return LiveState(state.wf, dict(instance.claims or {}),
                                     replay_ms=owed + (time.perf_counter() - began) * 1000)
        return self._deserialize(connection, instance)

    def _deserialize(self, connection: Connection, instance: InstanceRecord) -> LiveState:
        """The stored state restored onto the pinned specs, then the journal entries after it replayed.

        The script engine is set again (it is not serialized); the claims are the instance row's.
        """
        models = self.deployments.models(connection, instance.deployment_id, instance.family)
        state = None
        if instance.state_seq:
            text = instance.state if instance.state is not None else instances.fetch_state(connection, instance)
            # SpiffWorkflow's serializer migrations run inside loads(), keyed by the stored version.
            state = LiveState(self.serializer.loads(text, models.spec, models.subprocess_specs, self.script_engine))
        tail = journal.entries_after(connection, instance.id, instance.state_seq)
        began = time.perf_counter()
        state = replay.rebuild(state, tail, models, self.script_engine)
        state.replay_ms = (time.perf_counter() - began) * 1000
        state.claims = dict(instance.claims or {})
        return state

    def _remember(self, instance: InstanceRecord, state: LiveState) -> None:
        """Cache the state at the instance's version: least recently used first out.

        Closed dossiers stay too (their pages are read: decisions, timelines, audits); one nobody
        reads ages out before the running ones people work on.
        """
        with self._cache_lock:
            self._cache[instance.id] = (instance.version, instance.journal_seq, state)
            self._cache.move_to_end(instance.id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _validator(self, connection, deployment_id: int, form: str, task_data: dict | None = None):
        """The form's validator; a form with fields whose choices come from the data
        (:mod:`engine.form_options`) gets one bound to ``task_data``, made for this call."""
        key = (deployment_id, form)
        if key not in self._validators:
            models = self.deployments.models(connection, deployment_id)
            schema = models.forms[form]
            self._validators[key] = None if form_options.has_options(schema) else make_validator(schema)
        if self._validators[key] is None:
            schema = self.deployments.models(connection, deployment_id).forms[form]
            return make_validator(form_options.bind_options(schema, task_data))
        return self._validators[key]

    def _authorize_task(self, actor: Actor, instance: InstanceRecord, state: LiveState, human) -> None:
        claimed = state.claims.get(human.ref)
        refusal = commands.task_refusal(actor, human.role, human.assignee, claimed, instance.epci)
        if refusal == commands.NOT_THEIR_ROLE:
            raise Forbidden(
                f"The step {human.name!r} is for the role {human.role}; you do not hold it",
                code="task.wrong_role", params={"step": human.name, "role": human.role},
                bpmn_id=human.bpmn_id,
            )
        if refusal == commands.ASSIGNED_TO_ANOTHER:
            raise Forbidden(f"The step {human.name!r} is assigned to someone else",
                            code="task.assigned_to_another", params={"step": human.name}, bpmn_id=human.bpmn_id)
        if refusal == commands.OUTSIDE_EPCI:
            raise Forbidden("This dossier belongs to an EPCI outside your scope",
                            code="task.outside_epci", bpmn_id=human.bpmn_id)
        if refusal == commands.CLAIMED_BY_ANOTHER:
            raise Conflict(f"{claimed} has claimed this task",
                           code="task.claimed_by_another", params={"login": claimed}, bpmn_id=human.bpmn_id)
