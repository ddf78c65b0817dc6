"""Replay: re-apply an instance's journal to a fresh workflow and check every state it reaches.

``verify`` is the auditor's proof: for each instance, the hash chain holds and replaying its
commands on its pinned deployment reproduces the fingerprint journaled after each command, the
stored state (a checkpoint: the state after entry ``state_seq``) and the claims stored now.
:func:`rebuild` is the same replay on the command path: a load restores the checkpoint and
re-applies the entries after it. :mod:`engine.history_check` runs recorded histories against other models
(a new version a process owner is about to deploy) and reports where they stop fitting.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import commands, journal, migration
from .bpmn.parser import ParsedModels
from .clock import at
from .commands import LiveState
from .errors import EngineError
from .fingerprint import state_fingerprint, visible_fingerprint
from .journal import TailEntry
from .persistence.models import Deployment, Instance


@dataclass
class InstanceReport:
    instance_id: int
    ref: str
    chain_ok: bool
    replay_ok: bool
    problem: str | None = None
    #: the first journal entry in cause (the chain breaks or the replay diverges there); None
    #: when the problem names no entry (models that cannot be loaded) or there is none
    entry: int | None = None


@dataclass
class VerifyReport:
    instances: int = 0
    verified: int = 0
    diverged: list[dict] = field(default_factory=list)
    chain_ok: bool = True

    def as_dict(self) -> dict:
        return {
            "instances": self.instances,
            "verified": self.verified,
            "diverged": self.diverged,
            "chain_ok": self.chain_ok,
        }


class ReplayError(EngineError):
    """A journal entry cannot be re-applied (the models changed, or the journal was altered);
    ``seq``: that entry."""

    def __init__(self, message: str, *, seq: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.seq = seq


@dataclass(frozen=True)
class Replayed:
    """The replayed state after one journal entry (``row``), and the models the dossier is on
    from that entry on (another version's after a ``migrate`` entry). ``state`` is the replay's
    own object, changed in place by the next entry: copy what must outlive the step."""

    row: object
    state: LiveState
    models: ParsedModels


@dataclass(frozen=True)
class DossierModels:
    """The models of every deployment a dossier's journal runs on: the one it started on
    (``origin``, its first migration's origin) and each migration's target."""

    origin_id: int
    by_deployment: dict[int, ParsedModels]
    versions: dict[int, int]  # deployment id → version number

    @property
    def origin(self) -> ParsedModels:
        return self.by_deployment[self.origin_id]

    def switch(self, deployment_id: int) -> ParsedModels:
        try:
            return self.by_deployment[deployment_id]
        except KeyError:
            raise ReplayError(f"deployment {deployment_id} is not one this dossier's journal names") from None

    def deployment_of(self, models: ParsedModels) -> int:
        return next(key for key, value in self.by_deployment.items() if value is models)

    def models_by_entry(self, rows) -> dict[int, ParsedModels]:
        """Journal seq → the models that entry ran on (a ``migrate`` entry: the ones it left),
        read from the journal's ``migrate`` entries without replaying."""
        found, models = {}, self.origin
        for row in rows:
            found[row.seq] = models
            if row.command == migration.MIGRATE:
                try:
                    models = self.by_deployment.get(int(row.payload["to"]), models)
                except (KeyError, TypeError, ValueError):
                    continue
        return found


def _migration_targets(rows) -> list[int]:
    targets = []
    for row in rows:
        if row.command == migration.MIGRATE and isinstance(row.payload, dict):
            try:
                targets.append(int(row.payload["to"]))
            except (KeyError, TypeError, ValueError):
                continue  # an altered entry: its replay says so
    return targets


def dossier_models(session: Session, deployments, rows, deployment_id: int, family: str | None) -> DossierModels:
    """The :class:`DossierModels` of a dossier pinned to ``deployment_id`` whose journal is
    ``rows``, all loaded now (the replay then needs no session); raises the
    :class:`~engine.errors.EngineError` of a deployment that cannot be loaded."""
    origin = migration.origin_deployment(rows, deployment_id)
    ids = list(dict.fromkeys([origin, *_migration_targets(rows), deployment_id]))
    loaded = {key: deployments.models(session, key, family) for key in ids}
    versions = dict(session.execute(select(Deployment.id, Deployment.version).where(Deployment.id.in_(ids))).all())
    return DossierModels(origin, loaded, versions)


def _apply_entry(state: LiveState | None, row, models: ParsedModels, script_engine, switch=None) -> LiveState:
    """``state`` after re-applying one journal entry at its journaled instant (``switch``: the
    parsed models of a deployment id, for a migration entry; see :mod:`engine.migration`)."""
    try:
        with at(row.at):
            if row.command == migration.MIGRATE:
                if state is None or switch is None:
                    raise ReplayError(f"entry {row.seq} (migrate) moves the dossier to another version here")
                target = switch(int(row.payload["to"]))
                if target is not models:  # replayed on one set of models (check_history): nothing moves
                    migration.apply_migration(state, target)
                return state
            if row.command == commands.START:
                return commands.new_state(models, script_engine, row.payload)
            if state is None:
                raise ReplayError(f"entry {row.seq} ({row.command}) comes before the start")
            commands.apply(state, row.command, row.payload, contract=models.contract)
            return state
    except ReplayError as err:
        err.seq = row.seq
        raise
    except EngineError as err:
        raise ReplayError(f"entry {row.seq} ({row.command}) cannot be re-applied: {err}", seq=row.seq) from err
    except Exception as err:  # an altered payload can break anything: report it, never crash
        raise ReplayError(
            f"entry {row.seq} ({row.command}) cannot be re-applied: {type(err).__name__}: {err}", seq=row.seq
        ) from err


def _copied(row) -> TailEntry:
    """What replaying ``row`` needs, its payload copied: re-applying must not change the row a
    reader holds."""
    return TailEntry(row.seq, row.command, row.at, copy.deepcopy(row.payload))


def replay_states(rows, models: ParsedModels, script_engine, *, switch=None, state: LiveState | None = None,
                  serializer=None, stored: tuple[int, str] | None = None,
                  copy_payloads: bool = False) -> Iterator[Replayed]:
    """The one replay every reader goes through: re-apply ``rows`` (oldest first) from ``state``
    (``None``: ``rows`` starts with the start) on ``models``, switching to ``switch(deployment
    id)``'s models at each ``migrate`` entry, and yield the state after each entry.

    Raises :class:`ReplayError` (its ``seq`` the entry) at the first entry that cannot be
    re-applied, or, with ``serializer``, that reaches another state than its journaled
    fingerprint (and ``stored``, the entry a stored state follows and that state, when the
    replayed state there differs). ``copy_payloads``: re-apply copies of the payloads.
    """
    for row in rows:
        entry = _copied(row) if copy_payloads else row
        try:
            state = _apply_entry(state, entry, models, script_engine, switch)
            if row.command == migration.MIGRATE:
                models = switch(int(row.payload["to"]))
        except ReplayError:
            raise
        except EngineError as err:  # the version a migration names cannot be loaded
            raise ReplayError(f"entry {row.seq} ({row.command}) cannot be re-applied: {err}", seq=row.seq) from err
        if serializer is not None:
            if not _matches(row, state, serializer):
                raise ReplayError(f"entry {row.seq} ({row.command}) reaches a different state than journaled",
                                  seq=row.seq)
            if stored is not None and row.seq == stored[0] and (
                state_fingerprint(serializer.to_dict(state.wf)) != _stored_fingerprint(stored[1], serializer)
            ):
                raise ReplayError(
                    f"the stored state (after entry {row.seq}) is not the state its journal leads to", seq=row.seq)
        yield Replayed(row, state, models)


def rebuild(state: LiveState | None, rows, models: ParsedModels, script_engine, switch=None) -> LiveState:
    """``state`` (a stored checkpoint, or ``None`` before the start) with ``rows`` re-applied."""
    for step in replay_states(rows, models, script_engine, switch=switch, state=state):
        state = step.state
    if state is None:
        raise ReplayError("this dossier has no stored state and no journal to rebuild it from")
    return state


def _matches(row, state: LiveState, serializer) -> bool:
    if visible_fingerprint(state.visible(), state.claims) == row.state_hash:
        return True
    # Entries written before checkpoints (migration 0004) journaled the whole state's fingerprint.
    return state_fingerprint(serializer.to_dict(state.wf), state.extra()) == row.state_hash


def _stored_fingerprint(text: str, serializer) -> str | None:
    """The fingerprint of a stored state, or ``None`` when it is not a serialized state at all."""
    try:
        return state_fingerprint(serializer.decode(text))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def replay_entries(rows, models: ParsedModels, script_engine, serializer, compare: bool = True,
                   stored: tuple[int, str] | None = None,
                   state: LiveState | None = None) -> tuple[LiveState | None, str | None]:
    """Re-apply ``rows``; return (the state reached, first problem or None).

    Each entry's journaled fingerprint is checked against the replayed state, and ``stored`` (the
    entry a stored state follows, and that state) against the state replayed up to that entry.
    With ``compare=False`` (other models than the pinned ones) only re-applicability is checked.
    ``state``: the state the entry before ``rows[0]`` reached; ``None`` when ``rows`` starts
    with the start.
    """
    state, problem, _ = replay_checked(rows, models, script_engine, serializer, compare, stored, state)
    return state, problem


def replay_checked(rows, models: ParsedModels, script_engine, serializer, compare: bool = True,
                   stored: tuple[int, str] | None = None,
                   state: LiveState | None = None,
                   switch=None) -> tuple[LiveState | None, str | None, int | None]:
    """:func:`replay_entries`, with the journal entry its problem lies in (None: no problem)."""
    try:
        for step in replay_states(rows, models, script_engine, switch=switch, state=state,
                                  serializer=serializer if compare else None, stored=stored):
            state = step.state
    except ReplayError as err:
        return state, err.message, err.seq
    return state, None, None


def verify_instance(
    session: Session, instance: Instance, deployments, script_engine, serializer, rows=None
) -> InstanceReport:
    """Check one dossier's chain and replay it on its pinned deployment (``rows``: its journal,
    oldest first, when already read: :func:`engine.verification.verify_chunk` reads a chunk's at once)."""
    if rows is None:
        rows = journal.entries(session, instance.id)
    chain = journal.check_chain(instance, rows)
    origin = migration.origin_deployment(rows, instance.deployment_id)
    try:
        models = deployments.models(session, origin, instance.family)
    except EngineError as err:
        # Its pinned models are missing or no longer parse: this dossier cannot be replayed, which
        # the report says; the audit goes on with the others.
        models, final, replay_entry = None, None, None
        replay_problem = f"its deployment {origin} cannot be loaded: {err}"
    if models is not None:
        stored = (instance.state_seq, instance.state) if instance.state_seq else None
        final, replay_problem, replay_entry = replay_checked(
            rows, models, script_engine, serializer, stored=stored,
            switch=lambda deployment_id: deployments.models(session, deployment_id, instance.family))
    if replay_problem is None:
        if instance.state_seq > len(rows):
            replay_problem = f"the stored state follows entry {instance.state_seq}, which is not in the journal"
            replay_entry = len(rows) + 1  # the first entry the journal lacks
        elif final is not None and final.claims != (instance.claims or {}):
            replay_problem = "the stored claims are not the ones its journal leads to"
            replay_entry = len(rows)  # the stored claims follow the last entry
    problems = [
        p for p in (None if chain.ok else f"journal chain broken: {chain.problem}", replay_problem) if p
    ]
    entries = [entry for entry in (chain.entry, replay_entry) if entry is not None]
    return InstanceReport(
        instance.id, instance.ref, chain.ok, replay_problem is None, "; ".join(problems) or None,
        min(entries) if entries else None,
    )
