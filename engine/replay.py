"""Replay: re-apply an instance's journal to a fresh workflow and check every state it reaches.

``verify`` is the auditor's proof: for each instance, the hash chain holds and replaying its
commands on its pinned deployment reproduces the fingerprint journaled after each command, the
stored state (a checkpoint: the state after entry ``state_seq``) and the claims stored now.
:func:`rebuild` is the same replay on the command path: a load restores the checkpoint and
re-applies the entries after it. ``check_history`` runs recorded histories against other models (a new
version a process owner is about to deploy) and reports where they stop fitting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import commands, journal, migration
from .bpmn.parser import ParsedModels
from .clock import at
from .commands import LiveState
from .errors import EngineError
from .fingerprint import state_fingerprint, visible_fingerprint
from .persistence.models import Instance


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
    """A journal entry cannot be re-applied (the models changed, or the journal was altered)."""


def _apply_entry(state: LiveState | None, row, models: ParsedModels, script_engine, switch=None) -> LiveState:
    """``state`` after re-applying one journal entry at its journaled instant (``switch``: the
    parsed models of a deployment id, for a migration entry; see :mod:`engine.migration`)."""
    try:
        with at(row.at):
            if row.command == migration.MIGRATE:
                if state is None or switch is None:
                    raise ReplayError(f"entry {row.seq} (migrate) moves the dossier to another version here")
                migration.apply_migration(state, switch(int(row.payload["to"])))
                return state
            if row.command == commands.START:
                return commands.new_state(models, script_engine, row.payload)
            if state is None:
                raise ReplayError(f"entry {row.seq} ({row.command}) comes before the start")
            commands.apply(state, row.command, row.payload, contract=models.contract)
            return state
    except ReplayError:
        raise
    except EngineError as err:
        raise ReplayError(f"entry {row.seq} ({row.command}) cannot be re-applied: {err}") from err
    except Exception as err:  # an altered payload can break anything: report it, never crash
        raise ReplayError(
            f"entry {row.seq} ({row.command}) cannot be re-applied: {type(err).__name__}: {err}"
        ) from err


def rebuild(state: LiveState | None, rows, models: ParsedModels, script_engine, switch=None) -> LiveState:
    """``state`` (a stored checkpoint, or ``None`` before the start) with ``rows`` re-applied."""
    for row in rows:
        state = _apply_entry(state, row, models, script_engine, switch)
        if row.command == migration.MIGRATE:
            models = switch(int(row.payload["to"]))
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
    ``state``: the state the entry before ``rows[0]`` reached (the step-by-step replay goes on
    from it, :mod:`engine.replay_steps`); ``None`` when ``rows`` starts with the start.
    """
    state, problem, _ = replay_checked(rows, models, script_engine, serializer, compare, stored, state)
    return state, problem


def replay_checked(rows, models: ParsedModels, script_engine, serializer, compare: bool = True,
                   stored: tuple[int, str] | None = None,
                   state: LiveState | None = None,
                   switch=None) -> tuple[LiveState | None, str | None, int | None]:
    """:func:`replay_entries`, with the journal entry its problem lies in (None: no problem)."""
    for row in rows:
        try:
            state = _apply_entry(state, row, models, script_engine, switch)
            if row.command == migration.MIGRATE:
                models = switch(int(row.payload["to"]))
        except ReplayError as err:
            return state, err.message, row.seq
        except EngineError as err:  # the version a migration names cannot be loaded
            return state, f"entry {row.seq} ({row.command}) cannot be re-applied: {err}", row.seq
        if not compare:
            continue
        if not _matches(row, state, serializer):
            return state, f"entry {row.seq} ({row.command}) reaches a different state than journaled", row.seq
        if stored is not None and row.seq == stored[0] and (
            state_fingerprint(serializer.to_dict(state.wf)) != _stored_fingerprint(stored[1], serializer)
        ):
            return state, f"the stored state (after entry {row.seq}) is not the state its journal leads to", row.seq
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


def check_history(session: Session, models: ParsedModels, script_engine, serializer) -> VerifyReport:
    """Re-apply every instance's recorded commands to ``models`` (a version about to be deployed).

    ``diverged`` lists the instances whose history no longer fits: a task it completed does not
    exist, a form it submitted is refused by a changed condition, a script fails.
    """
    report = VerifyReport()
    for instance_id in session.scalars(select(Instance.id).order_by(Instance.id)).all():
        rows = journal.entries(session, instance_id)
        ref = session.get(Instance, instance_id).ref
        report.instances += 1
        _, problem = replay_entries(rows, models, script_engine, serializer, compare=False)
        if problem is None:
            report.verified += 1
        else:
            report.diverged.append({"instance": instance_id, "ref": ref, "problem": problem})
        session.expunge_all()
    return report
