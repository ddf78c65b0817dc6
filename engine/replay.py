"""Replay: re-apply an instance's journal to a fresh workflow and check every state it reaches.

``verify`` is the auditor's proof: for each instance, the hash chain holds and replaying its
commands on its pinned deployment reproduces the fingerprint journaled after each command and
the state stored now. ``check_history`` runs recorded histories against other models (a new
version a process owner is about to deploy) and reports where they stop fitting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import commands, journal
from .bpmn.parser import ParsedModels
from .clock import at
from .errors import EngineError
from .fingerprint import state_fingerprint
from .persistence.models import Instance


@dataclass
class InstanceReport:
    instance_id: int
    ref: str
    chain_ok: bool
    replay_ok: bool
    problem: str | None = None


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


def replay_entries(rows, models: ParsedModels, script_engine, serializer,
                   compare: bool = True) -> tuple[str | None, str | None]:
    """Re-apply ``rows``; return (fingerprint of the final state, first problem or None).

    With ``compare=False`` (other models than the pinned ones) only re-applicability is checked.
    """
    state = None
    digest = None
    for row in rows:
        try:
            with at(row.at):
                if row.command == commands.START:
                    state = commands.new_state(models, script_engine, row.payload)
                elif state is None:
                    return None, f"entry {row.seq} ({row.command}) comes before the start"
                else:
                    commands.apply(state, row.command, row.payload)
        except EngineError as err:
            return digest, f"entry {row.seq} ({row.command}) cannot be re-applied: {err}"
        except Exception as err:  # an altered payload can break anything: report it, never crash verify
            return digest, f"entry {row.seq} ({row.command}) cannot be re-applied: {type(err).__name__}: {err}"
        if not compare:
            continue
        digest = state_fingerprint(serializer.to_dict(state.wf), state.extra())
        if digest != row.state_hash:
            return digest, f"entry {row.seq} ({row.command}) reaches a different state than journaled"
    return digest, None


def verify_instance(
    session: Session, instance: Instance, deployments, script_engine, serializer
) -> InstanceReport:
    rows = journal.entries(session, instance.id)
    chain = journal.check_chain(instance, rows)
    models = deployments.models(session, instance.deployment_id)
    final, replay_problem = replay_entries(rows, models, script_engine, serializer)
    if replay_problem is None:
        stored = state_fingerprint(serializer.decode(instance.state), {"claims": instance.claims or {}})
        if stored != final:
            replay_problem = "the stored state is not the state its journal leads to"
    problems = [
        p for p in (None if chain.ok else f"journal chain broken: {chain.problem}", replay_problem) if p
    ]
    return InstanceReport(
        instance.id, instance.ref, chain.ok, replay_problem is None, "; ".join(problems) or None
    )


def verify_all(session: Session, deployments, script_engine, serializer) -> VerifyReport:
    report = VerifyReport()
    for instance_id in session.scalars(select(Instance.id).order_by(Instance.id)).all():
        instance = session.get(Instance, instance_id)
        report.instances += 1
        result = verify_instance(session, instance, deployments, script_engine, serializer)
        report.chain_ok = report.chain_ok and result.chain_ok
        if result.problem is None:
            report.verified += 1
        else:
            report.diverged.append({"instance": instance.id, "ref": instance.ref, "problem": result.problem})
        session.expunge_all()  # keep memory flat over thousands of instances
    return report


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
