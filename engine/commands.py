"""Commands: what can happen to an instance, and how each one changes its live state.

:func:`apply` is the single place a command's effect is defined. The service calls it inside a
transaction after checking the actor's rights; replay calls it with the journaled payload at the
journaled instant. A payload holds everything needed to re-apply the command: no lookups.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn import BpmnWorkflow

from . import runtime
from .bpmn.engine_steps import install
from .errors import Invalid
from .roles import REGIONAL_ROLES

START = "start"
COMPLETE = "complete"
CLAIM = "claim"
UNCLAIM = "unclaim"
DELEGATE = "delegate"
WITHDRAW = "withdraw"
FIRE_TIMERS = "fire_timers"
MESSAGE = "message"
SIGNAL = "signal"
#: a jury session's record in a dossier's journal (attendance, procès-verbal confirmed): it
#: changes nothing in the workflow (engine.jury_sessions)
JURY_RECORD = "jury_record"
COMMANDS = (START, COMPLETE, CLAIM, UNCLAIM, DELEGATE, WITHDRAW, FIRE_TIMERS, MESSAGE, SIGNAL, JURY_RECORD)

SYSTEM_LOGIN = "system"


@dataclass(frozen=True)
class Actor:
    """Who runs a command: a login, the roles held, and the EPCI the person works for."""

    login: str
    roles: frozenset[str] = frozenset()
    epci: frozenset[str] = frozenset()

    def has(self, role: str) -> bool:
        return role in self.roles


SYSTEM = Actor(SYSTEM_LOGIN)

#: Why someone may not work on an open task (see :func:`task_refusal`).
NOT_THEIR_ROLE, ASSIGNED_TO_ANOTHER, OUTSIDE_EPCI, CLAIMED_BY_ANOTHER = "role", "assignee", "epci", "claimed"


def task_refusal(actor: Actor, role: str, assignee: str | None, claimed_by: str | None,
                 epci: str | None) -> str | None:
    """Why ``actor`` may not work on an open task of a dossier of ``epci``, or ``None`` if they may.

    The one rule, checked by the engine on every command and by the web pages that offer a task:
    the task's role; its assignee, when the process names one; the dossier's EPCI for local roles
    (regional roles and assigned tasks reach across EPCI); nobody else's claim.
    """
    if not actor.has(role):
        return NOT_THEIR_ROLE
    if assignee is not None and assignee != actor.login:
        return ASSIGNED_TO_ANOTHER
    if role not in REGIONAL_ROLES and assignee is None and epci not in actor.epci:
        return OUTSIDE_EPCI
    if claimed_by is not None and claimed_by != actor.login:
        return CLAIMED_BY_ANOTHER
    return None


@dataclass(slots=True)
class LiveState:
    """A running instance in memory: the workflow and who has claimed which open task."""

    wf: BpmnWorkflow
    claims: dict[str, str] = field(default_factory=dict)
    #: what the inbox and timer rows of this version hold, when known (saves reading them back)
    projections: dict | None = None
    #: what the workflow shows now (:func:`runtime.visible`), once computed; a change clears it
    seen: runtime.Visible | None = None
    #: milliseconds of workflow work since the last stored state: what a load would replay
    #: (measured while applying commands or replaying them; see WorkflowEngine's checkpoint policy)
    replay_ms: float = 0.0

    def visible(self) -> runtime.Visible:
        """What the workflow shows now, computed once per change (the journal, projections and
        readers all need it)."""
        if self.seen is None:
            self.seen = runtime.visible(self.wf)
        return self.seen

    def ready(self) -> list[runtime.HumanTask]:
        """The open human tasks (from :meth:`visible` when it is known)."""
        return self.seen.ready if self.seen is not None else runtime.ready_human_tasks(self.wf)

    def extra(self) -> dict:
        """What the fingerprint covers besides the workflow."""
        return {"claims": self.claims}


def start_payload(contract, porteur: str, dossier_ref: str, campaign: dict, epci: str | None = None) -> dict:
    """What ``start`` journals: the initial process data (``campaign``: its snapshot), laid out as
    the model's contract says (:meth:`engine.contract.Contract.start_data`)."""
    return {"data": contract.start_data(porteur, dossier_ref, campaign, epci)}


def new_state(models, script_engine, payload: dict) -> LiveState:
    """Apply ``start``: a fresh workflow of the pinned models with the initial data."""
    wf = install(BpmnWorkflow(models.spec, models.subprocess_specs, script_engine=script_engine))
    runtime.start(wf, payload["data"])
    return LiveState(wf)


def apply(state: LiveState, command: str, payload: dict, human: runtime.HumanTask | None = None,
          contract=None) -> None:
    """Apply a non-start command to ``state`` (the caller sets the command instant).

    ``human``: the open task ``payload["task"]`` names, when the caller has just found it in
    this very state (the service, after its checks); replay looks it up. ``contract``: the
    contract of the dossier's pinned models (a withdrawal sends the message it names).
    """
    wf = state.wf
    if command == COMPLETE:
        human = human or runtime.find_ready_task(wf, payload["task"], state.ready())
        state.seen = None
        runtime.complete(wf, human, payload["data"])
    elif command == CLAIM or command == DELEGATE:
        runtime.find_ready_task(wf, payload["task"], state.ready())
        state.claims[payload["task"]] = payload["login"]
    elif command == UNCLAIM:
        state.claims.pop(payload["task"], None)
    elif command == WITHDRAW:
        if contract is None or contract.withdrawal is None:
            raise Invalid("This model declares no withdrawal message (contract.json: withdrawal)",
                          code="withdraw.too_late")
        state.seen = None
        runtime.deliver_message(wf, contract.withdrawal.message, contract.withdrawal_payload(payload["motif"]))
    elif command == FIRE_TIMERS:
        state.seen = None
        runtime.fire_timers(wf)
    elif command == MESSAGE:
        state.seen = None
        runtime.deliver_message(wf, payload["message"], payload["data"], payload["correlation"])
    elif command == SIGNAL:
        state.seen = None
        runtime.send_signal(wf, payload["signal"], payload["data"])
    elif command == JURY_RECORD:
        pass  # a record of the session, journaled and replayed: the workflow does not move
    else:
        raise Invalid(f"Unknown command {command!r}: expected one of {', '.join(COMMANDS)}",
                      code="command.unknown", params={"command": command})
    if command in (COMPLETE, WITHDRAW, FIRE_TIMERS, MESSAGE, SIGNAL) and state.claims:
        open_refs = {human.ref for human in state.visible().ready}
        state.claims = {ref: login for ref, login in state.claims.items() if ref in open_refs}
