"""Read queries for the web app: lists of dossiers, a dossier's timeline, its steps' forms and data.

Nothing here changes state. Scope is not checked here: the web layer decides who may read what
(in one place) and calls these with what it has decided.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, or_, select

from . import commands
from .commands import Actor
from .contract import Contract
from .errors import NotFound, dossier_not_found
from .persistence.models import Campaign, Instance, JournalEntry, OpenTask
from .roles import (
    JURY_REGIONAL,
    PRESIDENT_JURY,
    REGIONAL_ROLES,
    TECHNICIEN_COMMUNE,
    TECHNICIEN_EPCI,
    role_for_lane,
)


@dataclass(frozen=True)
class StepInfo:
    """A user task of a deployment: its name, role and form files."""

    bpmn_id: str
    name: str
    role: str | None
    form: str | None
    ui_form: str | None
    form_variable: str
    instructions: str | None


@dataclass(frozen=True)
class OpenStep:
    task_ref: str
    bpmn_id: str
    name: str
    role: str
    assignee: str | None
    claimed_by: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class DossierSummary:
    id: int
    ref: str
    title: str | None
    campaign_code: str
    epci: str | None
    porteur: str
    status: str
    outcome: str | None
    reason: str | None
    jury_type: str | None
    version: int
    deployment_id: int
    created_at: datetime
    updated_at: datetime
    open_steps: list[OpenStep] = field(default_factory=list)


@dataclass(frozen=True)
class TimelineEntry:
    """One journaled command, as a reader sees it."""

    seq: int
    at: datetime
    actor: str
    command: str
    task_ref: str | None
    bpmn_id: str | None
    step_name: str | None
    data: dict | None


@dataclass(frozen=True)
class CampaignInfo:
    code: str
    libelle: str
    is_open: bool
    data: dict


def bpmn_id_of(task_ref: str | None) -> str | None:
    """``cand_dossier.0/recevabilite.1`` → ``recevabilite`` (refs are ``<spec>.<n>`` paths)."""
    if not task_ref:
        return None
    spec = task_ref.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    # A multi-instance child's spec name ends with its own suffix in SpiffWorkflow ("x [child]").
    return spec.split("[", 1)[0]


def completed_steps(timeline: list[TimelineEntry], per_person=frozenset()) -> list[TimelineEntry]:
    """The last completion of each step of a :meth:`Queries.timeline`, in the order the steps were first done.

    ``per_person``: the steps each of several people completes (the contract's jury steps,
    :attr:`engine.contract.Contract.jury_steps`): the last completion of each person's.
    """
    latest: dict[str, TimelineEntry] = {}
    for entry in timeline:
        if entry.command == commands.COMPLETE and entry.bpmn_id:
            key = entry.bpmn_id if entry.bpmn_id not in per_person else f"{entry.bpmn_id}:{entry.actor}"
            latest.pop(key, None)
            latest[key] = entry
    return list(latest.values())


def _summary(row: Instance, steps: list[OpenStep]) -> DossierSummary:
    return DossierSummary(
        row.id,
        row.ref,
        row.title,
        row.campaign_code,
        row.epci,
        row.porteur,
        row.status,
        row.outcome,
        row.reason,
        row.jury_type,
        row.version,
        row.deployment_id,
        row.created_at,
        row.updated_at,
        steps,
    )


class Queries:
    """Read-only queries over a :class:`~engine.service.WorkflowEngine`'s database."""

    def __init__(self, engine):
        self.engine = engine
        self.db = engine.db

    # -- dossiers ----------------------------------------------------------------------------------

    def _with_steps(self, session, rows: list[Instance]) -> list[DossierSummary]:
        ids = [row.id for row in rows]
        steps: dict[int, list[OpenStep]] = {i: [] for i in ids}
        if ids:
            for task in session.scalars(select(OpenTask).where(OpenTask.instance_id.in_(ids)).order_by(OpenTask.id)):
                steps[task.instance_id].append(
                    OpenStep(
                        task.task_ref,
                        task.bpmn_id,
                        task.name,
                        task.role,
                        task.assignee,
                        task.claimed_by,
                        task.due_at,
                    )
                )
        return [_summary(row, steps[row.id]) for row in rows]

    def dossier(self, instance_id: int) -> DossierSummary:
        with self.db.sessions() as session:
            row = session.get(Instance, instance_id)
            if row is None:
                raise dossier_not_found(instance_id)
            return self._with_steps(session, [row])[0]

    def dossiers_of_porteur(self, login: str) -> list[DossierSummary]:
        with self.db.sessions() as session:
            rows = session.scalars(
                select(Instance)
                .where(Instance.porteur == login)
                .order_by(Instance.created_at.desc(), Instance.id.desc())
            ).all()
            return self._with_steps(session, list(rows))

    def dossiers_for_staff(
        self,
        actor: Actor,
        *,
        epci: str | None = None,
        campaign: str | None = None,
        page: int = 1,
        per_page: int = 50,
        text: str | None = None,
        step: str | None = None,
        status: str | None = None,
    ) -> tuple[list[DossierSummary], int]:
        """Dossiers an EPCI officer (their EPCI) or regional staff (all) may list; jury members get none
        here: they reach their dossiers through their tasks.

        ``text``: a part of the reference, the title or the porteur's login (any case); ``step``:
        the BPMN id of a step open on the dossier; ``status``: ``running`` or ``completed``."""
        query = select(Instance)
        jury_roles = (JURY_REGIONAL, PRESIDENT_JURY)
        if not any(role in REGIONAL_ROLES and role not in jury_roles for role in actor.roles):
            # Only an EPCI officer's EPCI scope lists dossiers; a territorial jury member's EPCI
            # is that of their jury, not a right to list its dossiers.
            officer = actor.roles & {TECHNICIEN_COMMUNE, TECHNICIEN_EPCI}
            query = query.where(Instance.epci.in_(sorted(actor.epci) if officer else []))
        if epci:
            query = query.where(Instance.epci == epci)
        if campaign:
            query = query.where(Instance.campaign_code == campaign)
        if text:
            pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(or_(*(func.lower(column).like(pattern, escape="\\")
                                      for column in (Instance.ref, Instance.title, Instance.porteur))))
        if step:
            query = query.where(exists().where(OpenTask.instance_id == Instance.id, OpenTask.bpmn_id == step))
        if status:
            query = query.where(Instance.status == status)
        with self.db.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            if (max(page, 1) - 1) * per_page >= total:
                return [], total  # past the last page: an empty list, and no offset the database cannot hold
            rows = session.scalars(
                query.order_by(Instance.updated_at.desc(), Instance.id.desc())
                .limit(per_page)
                .offset((max(page, 1) - 1) * per_page)
            ).all()
            return self._with_steps(session, list(rows)), total

    def declared_conflict(self, instance_id: int, login: str) -> bool:
        """Whether ``login`` declared a conflict of interest on this dossier (from the journal)."""
        return instance_id in self.declared_conflicts([instance_id], login)

    def declared_conflicts(self, instance_ids, login: str, chunk: int = 500) -> set[int]:
        """The dossiers among ``instance_ids`` on which ``login`` declared a conflict of interest.

        One indexed query per ``chunk`` dossiers (the journal's ``(instance_id, seq)`` index),
        for a jury member's dossier list, rather than one per dossier.
        """
        contract = functools.cache(self.contract)  # a few deployments for many dossiers
        return {
            instance_id
            for instance_id, payload, deployment_id in self._journal_rows(
                instance_ids, chunk, JournalEntry.actor == login, JournalEntry.command == commands.COMPLETE)
            if contract(deployment_id).declares_conflict(bpmn_id_of(payload.get("task")), payload.get("data"))
        }

    def jury_sessions(self, instance_ids, chunk: int = 500) -> dict[int, dict]:
        """The jury sessions (``campagne["jurys"]``) each dossier started with, by dossier id.

        The one source of truth for who examines a dossier: the engine assigns the jury's tasks
        from this snapshot, journaled with the start command, so a later edit of the campaign
        changes no running dossier's jury (a membership change for running dossiers is an
        administrative act still to be modelled). One indexed query per ``chunk`` dossiers.
        """
        found: dict[int, dict] = {}
        contract = functools.cache(self.contract)
        for instance_id, payload, deployment_id in self._journal_rows(
                instance_ids, chunk, JournalEntry.command == commands.START):
            campaign = contract(deployment_id).campaign_of((payload or {}).get("data") or {})
            found[instance_id] = copy.deepcopy(campaign.get("jurys") or {})
        return found

    def _journal_rows(self, instance_ids, chunk: int, *conditions) -> list[tuple[int, dict, int]]:
        """(dossier id, payload, deployment id) of the journal entries of ``instance_ids`` that
        meet ``conditions``: one indexed query per ``chunk`` dossiers."""
        ids = sorted(set(instance_ids))
        found: list[tuple[int, dict, int]] = []
        with self.db.sessions() as session:
            for start in range(0, len(ids), chunk):
                found.extend(session.execute(
                    select(JournalEntry.instance_id, JournalEntry.payload, Instance.deployment_id)
                    .join(Instance, Instance.id == JournalEntry.instance_id)
                    .where(JournalEntry.instance_id.in_(ids[start:start + chunk]), *conditions)
                ).all())
        return found

    # -- campaigns ---------------------------------------------------------------------------------

    def campaigns(self, open_only: bool = False) -> list[CampaignInfo]:
        with self.db.sessions() as session:
            query = select(Campaign).order_by(Campaign.code.desc())
            if open_only:
                query = query.where(Campaign.is_open.is_(True))
            return [
                CampaignInfo(row.code, row.libelle, row.is_open, copy.deepcopy(row.data))
                for row in session.scalars(query)
            ]

    def campaign(self, code: str) -> CampaignInfo:
        with self.db.sessions() as session:
            row = session.get(Campaign, code)
            if row is None:
                raise NotFound(f"La campagne {code} n'existe pas.",
                               code="campaign.not_found", params={"campaign": code})
            return CampaignInfo(row.code, row.libelle, row.is_open, copy.deepcopy(row.data))

    # -- steps, forms and data of a deployment ----------------------------------------------------

    def contract(self, deployment_id: int) -> Contract:
        """What the application reads from a deployment's models (:mod:`engine.contract`)."""
        return self.engine.contract(deployment_id)

    def steps(self, deployment_id: int) -> dict[str, StepInfo]:
        """The user tasks of a deployment by BPMN id."""
        with self.db.sessions() as session:
            models = self.engine.deployments.models(session, deployment_id)
        found = {}
        for bpmn_id, spec in models.all_user_tasks.items():
            props = (spec.extensions or {}).get("properties", {})
            found[bpmn_id] = StepInfo(
                bpmn_id,
                spec.bpmn_name or bpmn_id,
                role_for_lane(spec.lane),
                props.get("formJsonSchemaFilename"),
                props.get("formUiSchemaFilename"),
                props.get("formDataVariable") or bpmn_id,
                (spec.extensions or {}).get("instructionsForEndUser"),
            )
        return found

    def forms(self, deployment_id: int) -> dict[str, dict]:
        """The form documents pinned by a deployment (an instance uses its own deployment's forms)."""
        with self.db.sessions() as session:
            return self.engine.deployments.models(session, deployment_id).forms

    def model_files(self, deployment_id: int) -> dict[str, bytes]:
        """The BPMN/DMN/form files of a deployment (for the diagram viewer)."""
        with self.db.sessions() as session:
            return self.engine.deployments.files(session, deployment_id)

    def current_deployment_id(self) -> int | None:
        with self.db.sessions() as session:
            return self.engine.deployments.current_id(session.connection())

    # -- journal -----------------------------------------------------------------------------------

    def timeline(self, instance_id: int) -> list[TimelineEntry]:
        """The dossier's journal, oldest first, with step names and submitted data."""
        with self.db.sessions() as session:
            row = session.get(Instance, instance_id)
            if row is None:
                raise dossier_not_found(instance_id)
            entries = session.scalars(
                select(JournalEntry).where(JournalEntry.instance_id == instance_id).order_by(JournalEntry.seq)
            ).all()
            deployment_id = row.deployment_id
        names = {bpmn_id: step.name for bpmn_id, step in self.steps(deployment_id).items()}
        found = []
        for entry in entries:
            payload = entry.payload or {}
            ref = payload.get("task")
            bpmn_id = bpmn_id_of(ref)
            data = payload.get("data") if entry.command == commands.COMPLETE else None
            if entry.command == commands.WITHDRAW:
                data = {"motif": payload.get("motif")}
            found.append(
                TimelineEntry(
                    entry.seq,
                    entry.at,
                    entry.actor,
                    entry.command,
                    ref,
                    bpmn_id,
                    names.get(bpmn_id),
                    copy.deepcopy(data),
                )
            )
        return found

    def diagram_marks(self, instance_id: int) -> tuple[list[str], list[str]]:
        """(completed, current) BPMN ids of user tasks, for marking the diagram."""
        with self.db.sessions() as session:
            if session.get(Instance, instance_id) is None:
                raise dossier_not_found(instance_id)
            payloads = session.scalars(
                select(JournalEntry.payload).where(
                    JournalEntry.instance_id == instance_id, JournalEntry.command == commands.COMPLETE
                )
            )
            done = {bpmn_id for payload in payloads if (bpmn_id := bpmn_id_of((payload or {}).get("task")))}
            current = set(session.scalars(select(OpenTask.bpmn_id).where(OpenTask.instance_id == instance_id)))
        return sorted(done), sorted(current)
