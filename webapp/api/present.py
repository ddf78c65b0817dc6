"""Engine read models → the dicts the response schemas dump (which dossiers the caller may see
is decided by :mod:`webapp.access`, what they see of each by :mod:`webapp.presenters`)."""

from __future__ import annotations

from engine import Actor, DossierSummary

from .. import presenters
from ..access import can_do
from ..services import services


def step(actor: Actor, dossier: DossierSummary, open_step) -> dict:
    return {
        "ref": open_step.task_ref,
        "bpmn_id": open_step.bpmn_id,
        "name": open_step.name,
        "role": open_step.role,
        "assignee": open_step.assignee,
        "claimed_by": open_step.claimed_by,
        "due_at": open_step.due_at,
        "can_act": can_do(actor, dossier, open_step.role, open_step.assignee, open_step.claimed_by),
    }


def dossier(actor: Actor, summary: DossierSummary) -> dict:
    summary = presenters.dossier(presenters.reader_for(actor, summary), summary)
    return {
        "id": summary.id,
        "ref": summary.ref,
        "title": summary.title,
        "campaign": summary.campaign_code,
        "epci": summary.epci,
        "porteur": summary.porteur,
        "status": summary.status,
        "outcome": summary.outcome,
        "reason": summary.reason,
        "jury_type": summary.jury_type,
        "version": summary.version,
        "created_at": summary.created_at,
        "updated_at": summary.updated_at,
        "steps": [step(actor, summary, open_step) for open_step in summary.open_steps],
    }


def _record(record: dict) -> dict:
    entry = record["entry"]
    return {"seq": entry.seq, "at": entry.at, "bpmn_id": entry.bpmn_id, "name": record["name"],
            "role": record["role"], "actor": record["actor"], "data": record["data"]}


def dossier_detail(actor: Actor, summary: DossierSummary) -> dict:
    """:func:`dossier` with what the dossier page shows the caller, from the same presenter:
    the timeline, the documents, the earlier steps' data they may read and, for the porteur,
    what the staff asked of them. Never a jury member's name or scores, nor an internal comment,
    for a porteur (:mod:`webapp.presenters`, :mod:`engine.disclosure`)."""
    svc = services()
    reader = presenters.reader_for(actor, summary)
    entries = svc.queries.timeline(summary.id)
    records = presenters.step_records(reader, summary, entries)
    return {
        **dossier(actor, summary),
        "timeline": [
            {"seq": e.seq, "at": e.at, "command": e.command, "bpmn_id": e.bpmn_id, "step": e.step_name,
             "actor": e.actor or None, "data": e.data if e.command == "withdraw" else None}
            for e in presenters.timeline(reader, entries)
        ],
        "documents": [
            {"filename": d.filename, "media_type": d.media_type, "size": d.size, "sha256": d.sha256,
             "uploaded_at": d.uploaded_at, "uploaded_by": d.uploaded_by or None}
            for d in presenters.documents(reader, summary, entries, svc.attachments.list(summary.id))
        ],
        "earlier_steps": [_record(record) for record in records],
        "requests": [_record(record) for record in presenters.porteur_requests(reader, records)],
    }


def inbox_row(actor: Actor, row, now) -> dict:
    return {
        "dossier_id": row.instance_id,
        "dossier_ref": row.dossier_ref,
        "title": row.title,
        "ref": row.task_ref,
        "bpmn_id": row.bpmn_id,
        "name": row.name,
        "role": row.role,
        "epci": row.epci,
        "campaign": row.campaign_code,
        "assignee": row.assignee,
        "claimed_by": row.claimed_by,
        "due_at": row.due_at,
        "created_at": row.created_at,
        "overdue": row.due_at is not None and row.due_at < now,
        "mine": actor.login in (row.claimed_by, row.assignee),
    }


def page(items: list, total: int, page_number: int, per_page: int) -> dict:
    return {
        "items": items,
        "total": total,
        "page": page_number,
        "per_page": per_page,
        "pages": max((total + per_page - 1) // per_page, 1),
    }
