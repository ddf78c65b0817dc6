"""Tasks: the caller's inbox, one open task with its form, and the claim / unclaim / complete commands.

A task is addressed as `/api/dossiers/<dossier_id>/tasks/<ref>`, where `ref` is the task's
`ref` exactly as the API returns it: slash-separated `<step>.<n>` segments, for example
`cand_dossier.0/recevabilite.1`. The slashes may be sent as they are or percent-encoded; the
`/claim`, `/unclaim` and `/complete` suffixes can never be taken for a segment of a ref
(a segment always ends with `.<number>`).
"""

from __future__ import annotations

from flask import current_app

from engine import Conflict, InboxFilter, NotFound, bind_options

from .. import presenters
from ..access import STAFF, current_actor, open_task_or_refuse, roles_required
from ..inbox import end_of_day
from ..services import services
from . import auth, errors, present
from .blueprint import Blueprint
from .schemas import CompleteArgs, DossierSchema, InboxArgs, InboxSchema, TaskSchema

bp = Blueprint("api_tasks", __name__, url_prefix="/api", description="Tâches : corbeille, formulaire, commandes.")
bp.before_request(auth.authenticate)
errors.register(bp)

TASK = "/dossiers/<int:dossier_id>/tasks/<taskref:ref>"


@bp.route("/tasks", methods=["GET"])
@roles_required(*STAFF)
@bp.arguments(InboxArgs, location="query", as_kwargs=True)
@bp.response(200, InboxSchema)
@bp.alt_response(403, response="FORBIDDEN")
def inbox(page, mine, per_page=None, step=None, epci=None, campaign=None, due_before=None):
    """The caller's inbox

    Open tasks assigned to the caller or open to their roles within their EPCI scope, soonest due
    first, with the total count and paging (the same filters as the inbox page).
    """
    actor = current_actor()
    svc = services()
    per_page = per_page or int(current_app.config["DSDT_INBOX_PER_PAGE"])
    flt = InboxFilter(
        step=step,
        epci=epci,
        campaign=campaign,
        due_before=end_of_day(due_before) if due_before else None,
        mine_only=mine,
        page=page,
        per_page=per_page,
    )
    rows, total = svc.engine.open_tasks(actor, flt)
    now = svc.engine.now()
    return present.page([present.inbox_row(actor, row, now) for row in rows], total, page, per_page)


def _open_task(dossier, ref: str):
    """The open task `ref` of a dossier the caller may see, if the caller may work on it."""
    view = open_task_or_refuse(current_actor(), dossier, ref)
    if view is None:  # the engine's codes, translated like its own refusals
        if any(entry.task_ref == ref for entry in services().queries.timeline(dossier.id)):
            raise Conflict(f"Task {ref} is no longer open", code="task.not_open", params={"task": ref})
        raise NotFound(f"Task {ref} does not exist in this dossier", code="task.not_found", params={"task": ref})
    return view


@bp.route(TASK, methods=["GET"])
@auth.dossier_in_scope
@bp.response(200, TaskSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def task(dossier, ref: str):
    """One open task

    Its form (JSON Schema and UI schema), its instructions and the data it sees, as far as the
    caller may read it (a porteur gets their own submissions and what is addressed to them, a jury
    member their own scores and not their colleagues'); only for someone who may work on it (403
    otherwise, 409 when a colleague has claimed it).
    """
    view = _open_task(dossier, ref)
    forms = services().queries.forms(dossier.deployment_id)
    return {
        "dossier_id": dossier.id,
        "dossier_version": dossier.version,
        "ref": view.ref,
        "bpmn_id": view.bpmn_id,
        "name": view.name,
        "role": view.role,
        "assignee": view.assignee,
        "claimed_by": view.claimed_by,
        "instructions": view.instructions,
        "form": view.form,
        "form_variable": view.form_variable,
        "schema": bind_options(forms[view.form], view.data),  # choices from the dossier's data
        "ui_schema": forms.get(view.ui_form, {}) if view.ui_form else {},
        "data": presenters.task_data(presenters.reader_for(current_actor(), dossier), dossier, view),
    }


def _after(dossier_id: int) -> dict:
    return present.dossier(current_actor(), services().queries.dossier(dossier_id))


@bp.route(TASK + "/claim", methods=["POST"])
@auth.dossier_in_scope
@bp.response(200, DossierSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def claim(dossier, ref: str):
    """Claim a task

    It leaves the colleagues' inboxes. 409 when someone else has claimed it or it is no longer open.
    Answers with the dossier after the command.
    """
    services().engine.claim(current_actor(), dossier.id, ref)
    return _after(dossier.id)


@bp.route(TASK + "/unclaim", methods=["POST"])
@auth.dossier_in_scope
@bp.response(200, DossierSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def unclaim(dossier, ref: str):
    """Release a claimed task

    Back in the colleagues' inboxes. 409 when the caller has not claimed it; 403 for a read-only role.
    """
    services().engine.unclaim(current_actor(), dossier.id, ref)
    return _after(dossier.id)


@bp.route(TASK + "/complete", methods=["POST"])
@auth.dossier_in_scope
@bp.arguments(CompleteArgs)
@bp.response(200, DossierSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def complete(args: dict, dossier, ref: str):
    """Complete a task

    `data` is validated against the task's JSON Schema, and each attachment field must name an
    attachment of this dossier (the engine's command checks both): 422 with `errors` keyed by the
    dotted path inside `data` (the dossier is unchanged). 409 when the task was completed meanwhile or,
    with `expected_version`, when the dossier changed since it was read.
    """
    actor = current_actor()
    svc = services()
    svc.engine.complete(actor, dossier.id, ref, args["data"], expected_version=args["expected_version"])
    svc.drafts.discard(actor.login, dossier.id, ref)
    return _after(dossier.id)
