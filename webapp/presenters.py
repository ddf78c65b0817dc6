"""What one person sees of one dossier, for the pages and the API alike.

:mod:`webapp.access` decides whether someone sees a dossier at all; this module decides what
they see of it, once, for every page (dossier page, task page, "mes candidatures") and every API
answer (dossiers, tasks). Which recorded fields are internal is declared in the forms (see
:mod:`engine.disclosure`); who the reader is for this dossier is decided here with the access
rules: the porteur gets what is addressed to them and nothing internal (no jury member's name or
scores, no technician's opinion, no internal comment), staff get what their steps need, a jury
member their own scores but not their colleagues'.
"""

from __future__ import annotations

import dataclasses

from engine import Actor, DossierSummary, OpenStep, TimelineEntry, completed_steps, disclosure, roles

from .access import STAFF, can_see, porteurs_read_by
from .schema_forms import render_readonly
from .services import services

#: journal commands that are the staff's own organisation (who took, released, passed a step)
_INTERNAL_COMMANDS = frozenset({"claim", "unclaim", "delegate", "jury_record"})


def reader_for(actor: Actor, dossier: DossierSummary) -> disclosure.Reader:
    """How ``actor`` reads ``dossier`` (whom the caller has already let see it).

    Someone who is both the porteur of this dossier and staff elsewhere reads it as staff only
    where a staff role of theirs reaches it (their porteur role is left out of that check).
    """
    porteur = dossier.porteur in porteurs_read_by(actor)  # theirs, or their association's
    staff_roles = actor.roles & STAFF
    if not staff_roles:
        staff = False
    elif not porteur:
        staff = True  # the caller let them see it, and not as its porteur
    else:
        staff = can_see(Actor(actor.login, staff_roles, actor.epci), dossier)
    overseer = staff and bool(actor.roles & disclosure.OVERSEERS)
    return disclosure.Reader(actor.login, porteur=porteur, staff=staff, overseer=overseer)


def _shown_login(reader: disclosure.Reader, login: str | None) -> str | None:
    """A staff member's login is shown to staff; the porteur sees only their own."""
    if login is None or reader.staff or login == reader.login:
        return login
    return None


def open_step(reader: disclosure.Reader, step: OpenStep) -> OpenStep:
    """An open step, without the name of who holds it when the reader may not know it."""
    return dataclasses.replace(
        step, assignee=_shown_login(reader, step.assignee), claimed_by=_shown_login(reader, step.claimed_by)
    )


def document_refs(reader: disclosure.Reader, dossier_row: DossierSummary, entries: list[TimelineEntry]):
    """What :func:`engine.disclosure.may_read_document` needs: the references the dossier's
    completed steps (every completion, from ``entries``, its timeline) hold, and those the reader may read."""
    steps, forms = _forms_of(dossier_row.deployment_id)
    return disclosure.document_refs(reader, (
        (forms.get(steps[e.bpmn_id].form or "", {}), e.data, e.actor)
        for e in entries if e.command == "complete" and e.bpmn_id in steps and isinstance(e.data, dict)
    ))


def documents(reader: disclosure.Reader, dossier_row: DossierSummary, entries: list[TimelineEntry],
              docs: list) -> list:
    """The dossier's documents the reader may read (by the audience of the fields naming them),
    without the login of the staff member who uploaded one when the reader may not know it (the
    same rule as the open steps and the timeline)."""
    refs = document_refs(reader, dossier_row, entries)
    docs = [doc for doc in docs if disclosure.may_read_document(reader, doc.ref, doc.uploaded_by, refs)]
    if reader.staff:
        return docs
    return [dataclasses.replace(doc, uploaded_by=_shown_login(reader, doc.uploaded_by) or "") for doc in docs]


def _once_per_step(reader: disclosure.Reader, steps: list[OpenStep]) -> list[OpenStep]:
    """Steps others do in parallel (each jury member's examination) listed once: who does them is
    not the reader's to know, so one line per step and role, with the soonest due date."""
    shown: list[OpenStep] = []
    where: dict[tuple[str, str], int] = {}
    for step in steps:
        if step.assignee == reader.login or step.claimed_by == reader.login:
            shown.append(step)
            continue
        key = (step.bpmn_id, step.role)
        if key not in where:
            where[key] = len(shown)
            shown.append(step)
            continue
        first = shown[where[key]]
        dues = [due for due in (first.due_at, step.due_at) if due is not None]
        shown[where[key]] = dataclasses.replace(first, due_at=min(dues) if dues else None)
    return shown


def dossier(reader: disclosure.Reader, summary: DossierSummary) -> DossierSummary:
    """The dossier summary with its open steps as the reader may see them (for a reader outside
    the staff, a step several people do in parallel is listed once)."""
    if reader.staff:
        return summary
    steps = [open_step(reader, step) for step in summary.open_steps]
    return dataclasses.replace(summary, open_steps=_once_per_step(reader, steps))


def timeline(reader: disclosure.Reader, entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """The journal as the reader may see it: the porteur sees what happened and when, not who on
    the staff did it nor how the staff organised the work; no entry carries submitted data,
    except a withdrawal's reason (the porteur's own)."""
    if reader.staff:
        return entries
    shown = []
    for entry in entries:
        if entry.command in _INTERNAL_COMMANDS:
            continue
        data = entry.data if entry.command == "withdraw" else None
        shown.append(dataclasses.replace(entry, actor=_shown_login(reader, entry.actor) or "", data=data))
    return shown


def _forms_of(deployment_id: int):
    svc = services()
    return svc.queries.steps(deployment_id), svc.queries.forms(deployment_id)


def step_records(reader: disclosure.Reader, dossier_row: DossierSummary, entries: list[TimelineEntry],
                 exclude_ref: str | None = None) -> list[dict]:
    """The completed steps (last completion of each) and the part of their data the reader may read.

    Each item: ``entry``, ``name``, ``actor`` (None when hidden), ``schema``, ``ui``, ``data``.
    Steps of which the reader may read nothing are left out.
    """
    steps, forms = _forms_of(dossier_row.deployment_id)
    records = []
    for entry in completed_steps(entries, services().queries.contract(dossier_row.deployment_id).jury_steps):
        if entry.task_ref == exclude_ref or entry.bpmn_id not in steps or entry.data is None:
            continue
        step = steps[entry.bpmn_id]
        schema = forms.get(step.form or "", {})
        data = disclosure.step_data(reader, schema, entry.data, entry.actor)
        if not data:
            continue
        ui = forms.get(step.ui_form or "", {}) if step.ui_form else {}
        records.append({"entry": entry, "name": step.name, "actor": _shown_login(reader, entry.actor),
                        "schema": schema, "ui": ui, "data": data, "role": step.role})
    return records


def _rendered(records: list[dict], attachment_context: dict) -> list[dict]:
    return [{**record, "html": render_readonly(record["schema"], record["ui"], record["data"],
                                               context=attachment_context)} for record in records]


def earlier_steps(reader, dossier_row, entries, attachment_context: dict, exclude_ref: str | None = None):
    """:func:`step_records` rendered read-only for the pages."""
    return _rendered(step_records(reader, dossier_row, entries, exclude_ref), attachment_context)


def steps_and_requests(reader: disclosure.Reader, dossier_row: DossierSummary, entries: list[TimelineEntry],
                       attachment_context: dict, exclude_ref: str | None = None) -> tuple[list[dict], list[dict]]:
    """``(earlier steps, requests to the porteur)`` of a page showing both: each record read and
    rendered once (the requests are among the earlier steps). ``exclude_ref``: the task the page
    is for, left out of the earlier steps (not of what decides the requests)."""
    rendered = _rendered(step_records(reader, dossier_row, entries), attachment_context)
    earlier = [record for record in rendered if exclude_ref is None or record["entry"].task_ref != exclude_ref]
    return earlier, porteur_requests(reader, rendered)


def porteur_requests(reader: disclosure.Reader, records: list[dict]) -> list[dict]:
    """Among :func:`step_records`, what the staff addressed to the porteur since the porteur last
    submitted (a fiche to complete and why, advice, missing documents and their deadline): the
    steps of other roles completed after the porteur's last step, as far as they are addressed
    to the porteur. None for staff."""
    if not reader.porteur or reader.staff:
        return []
    last_own = max((r["entry"].seq for r in records if r["role"] == roles.PORTEUR), default=0)
    return [r for r in records if r["role"] != roles.PORTEUR and r["entry"].seq > last_own]


def requests_to_porteur(reader: disclosure.Reader, dossier_row: DossierSummary, entries: list[TimelineEntry],
                        attachment_context: dict) -> list[dict]:
    """:func:`porteur_requests` rendered like :func:`earlier_steps`, for the pages."""
    if not reader.porteur or reader.staff:
        return []
    return _rendered(porteur_requests(reader, step_records(reader, dossier_row, entries)), attachment_context)


def task_data(reader: disclosure.Reader, dossier_row: DossierSummary, view) -> dict:
    """The workflow data an open task shows its worker, minus what the reader may not read."""
    steps, forms = _forms_of(dossier_row.deployment_id)
    stored, collected = disclosure.variable_forms(
        (step.form_variable, forms[step.form]) for step in steps.values() if step.form in forms
    )
    return disclosure.workflow_data(reader, view.data, stored, collected, own=view.form_variable)
