"""The engine's reads: instances, inboxes, open tasks with their data, audits.

A mixin of :class:`~engine.service.WorkflowEngine`, which provides the database, the clock, the
deserialized-workflow cache and its locks; nothing here changes an instance.
"""

from __future__ import annotations

import contextlib
import copy
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import inbox, runtime
from .bpmn.parser import parse_models
from .commands import Actor, LiveState
from .contract import Contract
from .errors import NotFound, dossier_not_found
from .history_check import check_history
from .persistence import instances
from .persistence.models import Instance
from .replay import VerifyReport
from .views import TaskView


class EngineReads:
    """Read-only queries over the engine's database and cache."""

    def session(self) -> Session:
        """A read-only session for queries (the caller closes it)."""
        return self.db.sessions()

    def instance(self, instance_id: int) -> Instance:
        with self.db.sessions() as session:
            row = session.get(Instance, instance_id)
            if row is None:
                raise dossier_not_found(instance_id)
            return row

    def open_tasks(self, actor: Actor, flt: inbox.InboxFilter | None = None):
        with self.db.sessions() as session:
            return inbox.inbox(session, actor, flt or inbox.InboxFilter())

    def task_views(self, instance_id: int) -> list[TaskView]:
        """The instance's open human tasks with their data (read-only copies)."""
        with self._reading(instance_id) as state:
            if state is None:
                return []
            return [TaskView.of(human, state.claims.get(human.ref)) for human in state.visible().ready]

    def data(self, instance_id: int) -> dict:
        """A copy of the dossier's current workflow data (from the cache when it is current)."""
        with self._reading(instance_id, closed_too=True) as state:
            return copy.deepcopy(state.visible().data)

    @contextlib.contextmanager
    def _reading(self, instance_id: int, closed_too: bool = False):
        """The instance's state for a read, under its stripe: copy what you keep before leaving.

        The cached workflow is used when the database still holds its version, checked with a
        one-row query on two columns; the instance row is loaded only on a cache miss.
        ``None`` for a closed instance unless ``closed_too``.
        """
        with self._stripes[instance_id % len(self._stripes)]:
            with self.db.engine.connect() as connection:
                row = instances.version_and_status(connection, instance_id)
            if row is None:
                raise dossier_not_found(instance_id)
            version, status = row
            if status != "running" and not closed_too:
                yield None
                return
            with self._cache_lock:
                cached = self._cache.get(instance_id)
            if cached is not None and cached[0] == version:
                yield cached[2]
                return
            with self.db.engine.connect() as connection:
                instance = instances.fetch(connection, instance_id)
                state = self._load(connection, instance)
            self._remember(instance, state)
            yield state

    def can_withdraw(self, instance_id: int) -> bool:
        """True while the dossier's process still catches the withdrawal message: the model, not
        the page, says when withdrawal ends (processes/README.md)."""
        with self.db.engine.connect() as connection:
            deployment_id = connection.scalar(select(Instance.deployment_id).where(Instance.id == instance_id))
        withdrawal = deployment_id and self.contract(deployment_id).withdrawal
        if not withdrawal:
            return False
        with self._reading(instance_id) as state:
            return state is not None and runtime.can_catch(state.wf, withdrawal.message)

    def contract(self, deployment_id: int) -> Contract:
        """The contract of a deployment's models: what the application reads from them."""
        known = self.deployments.known(deployment_id)  # pages ask once per dossier: no connection then
        if known is not None:
            return known.contract
        with self.db.engine.connect() as connection:
            return self.deployments.models(connection, deployment_id).contract

    def live_state(self, instance_id: int) -> LiveState:
        """The instance's workflow freshly restored from the database (for reads: never mutate it)."""
        with self.db.engine.connect() as connection:
            instance = instances.fetch(connection, instance_id)
            if instance is None:
                raise dossier_not_found(instance_id)
            return self._deserialize(connection, instance)

    def current_forms(self) -> dict[str, dict]:
        """The form documents of the current deployment, keyed by file name."""
        with self.db.sessions() as session:
            current = self.deployments.current(session)
            if current is None:
                raise NotFound("No deployment yet: run `dsdt deploy` first", code="deployment.none")
            return self.deployments.models(session, current.id).forms

    def verify(self, jobs: int = 1, resume=None, progress=None, config=None) -> VerifyReport:
        """Replay every instance and check every journal chain (see :mod:`engine.replay`), on
        ``jobs`` processes built from ``config``, resumable (:mod:`engine.verification`)."""
        from .verification import verify_dossiers

        return verify_dossiers(self, config, jobs=jobs, resume=resume, progress=progress)

    def check_history(self, files: dict[str, bytes]) -> VerifyReport:
        """Replay every recorded history against new model files before deploying them."""
        return check_history(self, parse_models(files))

    def now(self) -> datetime:
        return self.clock.now()
