"""Dossiers: the porteur's space (start, my applications, withdraw), the dossier page, the task page."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from engine import Conflict, Invalid, NotFound, bind_options, completed_steps, roles

from . import presenters, receipts
from .access import (
    STAFF,
    can_do,
    current_actor,
    dossiers_of_association,
    load_dossier_or_404,
    login_required,
    open_task_or_refuse,
    roles_required,
)
from .diagram import diagram_data
from .engine_messages import describe, field_errors
from .schema_forms import parse_form, render_form
from .services import services

bp = Blueprint("dossiers", __name__, url_prefix="/dossiers")


@bp.route("/")
@roles_required(roles.PORTEUR)
def mine():
    actor = current_actor()
    svc = services()
    # Their own and their association's, as the presenter shows them (a jury step once, not per member).
    dossiers = [presenters.dossier(presenters.reader_for(actor, d), d) for d in dossiers_of_association(actor)]
    campaigns = svc.queries.campaigns(open_only=True)
    # What the staff asked of the porteur, beside each step that waits for them (few dossiers each).
    requests = {}
    for dossier in dossiers:
        if any(step.assignee == actor.login for step in dossier.open_steps):
            reader = presenters.reader_for(actor, dossier)
            requests[dossier.id] = presenters.requests_to_porteur(
                reader, dossier, svc.queries.timeline(dossier.id),
                _attachment_context(dossier.id, svc.attachments.list(dossier.id)),
            )
    return render_template(
        "dossiers/mine.html", dossiers=dossiers, campaigns=campaigns, requests=requests, now=svc.engine.now()
    )


@bp.route("/nouveau", methods=("POST",))
@roles_required(roles.PORTEUR)
def start():
    actor = current_actor()
    code = request.form.get("campagne", "")
    svc = services()
    instance_id = svc.engine.start(actor, code)
    flash(_("Candidature créée : décrivez maintenant votre structure et votre idée de projet."), "success")
    step = next(iter(svc.queries.dossier(instance_id).open_steps), None)
    if step is not None:
        return redirect(url_for("dossiers.task", instance_id=instance_id, task_ref=step.task_ref))
    return redirect(url_for("dossiers.show", instance_id=instance_id))


def _attachment_context(instance_id: int, documents) -> dict:
    """How the forms show an attachment reference: its file name, linked to its download."""
    names = {doc.ref: doc.filename for doc in documents}
    return {
        "attachment_url": lambda ref: url_for(
            "dossiers.document", instance_id=instance_id, sha=ref.removeprefix("sha256:")
        ),
        "attachment_name": lambda ref: names.get(ref, ref),
    }


def _earlier_steps(dossier, reader, documents, timeline, exclude_ref: str | None = None):
    """``(earlier steps, requests to the porteur)``: the data of completed steps (from the
    dossier's ``timeline``) that ``reader`` may read, rendered read-only once for both lists."""
    return presenters.steps_and_requests(reader, dossier, timeline, _attachment_context(dossier.id, documents),
                                         exclude_ref)


@bp.route("/<int:instance_id>")
@login_required
def show(instance_id: int):
    dossier = load_dossier_or_404(instance_id)
    actor = current_actor()
    svc = services()
    reader = presenters.reader_for(actor, dossier)
    timeline = svc.queries.timeline(instance_id)
    steps = [
        {"step": step, "doable": can_do(actor, dossier, step.role, step.assignee, step.claimed_by)}
        for step in presenters.dossier(reader, dossier).open_steps
    ]
    can_withdraw = (dossier.status == "running" and dossier.porteur == actor.login and actor.has(roles.PORTEUR)
                    and svc.engine.can_withdraw(instance_id))
    # The diagram's marks, from what the page has read already (the timeline and the open steps).
    jury_steps = svc.queries.contract(dossier.deployment_id).jury_steps
    done = {entry.bpmn_id for entry in completed_steps(timeline, jury_steps)}
    done_names = list(dict.fromkeys(entry.step_name or entry.bpmn_id for entry in timeline if entry.bpmn_id in done))
    current = {step.bpmn_id: step.name for step in dossier.open_steps}
    documents = presenters.documents(reader, dossier, timeline, svc.attachments.list(instance_id))
    earlier, requests = _earlier_steps(dossier, reader, documents, timeline)
    return render_template(
        "dossiers/show.html",
        dossier=dossier,
        steps=steps,
        timeline=presenters.timeline(reader, timeline),
        earlier=earlier,
        requests=requests,
        documents=documents,
        can_withdraw=can_withdraw,
        done_names=done_names,
        current_names=[current[bpmn_id] for bpmn_id in sorted(current)],
        submissions=receipts.submissions(dossier, timeline),
        now=svc.engine.now(),
    )


@bp.route("/<int:instance_id>/diagram.json")
@login_required
def diagram(instance_id: int):
    """The BPMN files this dossier went through, with done/current element ids (for the diagram viewer)."""
    dossier = load_dossier_or_404(instance_id)
    svc = services()
    done, current = svc.queries.diagram_marks(instance_id)
    files = svc.queries.model_files(dossier.deployment_id)
    return jsonify(
        dossier=dossier.ref,
        done=done,
        current=current,
        diagrams=diagram_data(files, done, current,
                              main_process=svc.queries.contract(dossier.deployment_id).main_process),
    )


@bp.route("/<int:instance_id>/retrait", methods=("POST",))
@roles_required(roles.PORTEUR)
def withdraw(instance_id: int):
    dossier = load_dossier_or_404(instance_id)
    motif = request.form.get("motif", "").strip()
    if not motif:
        flash(_("Indiquez le motif de votre retrait."), "error")
        return redirect(url_for("dossiers.show", instance_id=dossier.id) + "#retrait")
    services().engine.withdraw(current_actor(), instance_id, motif)
    flash(_("Votre candidature est retirée."), "success")
    return redirect(url_for("dossiers.show", instance_id=instance_id))


@bp.route("/<int:instance_id>/documents/<sha>")
@login_required
def document(instance_id: int, sha: str):
    dossier = load_dossier_or_404(instance_id)
    svc = services()
    info, content = svc.attachments.get(instance_id, sha)
    reader = presenters.reader_for(current_actor(), dossier)
    if not presenters.documents(reader, dossier, svc.queries.timeline(instance_id), [info]):
        # attached to a field the reader may not read: as if it did not exist
        raise NotFound("Ce document n'existe pas dans ce dossier.", code="attachment.not_found",
                       instance_id=instance_id)
    return send_file(BytesIO(content), mimetype=info.media_type, as_attachment=True, download_name=info.filename)


# -- the task page -----------------------------------------------------------------------------------


def _stale(dossier, message: str | None = None):
    return render_template("dossiers/stale.html", dossier=dossier, message=message), 409


@bp.route("/<int:instance_id>/etape/<path:task_ref>", methods=("GET", "POST"))
@login_required
def task(instance_id: int, task_ref: str):
    dossier = load_dossier_or_404(instance_id)
    actor = current_actor()
    svc = services()
    view = open_task_or_refuse(actor, dossier, task_ref)
    if view is None:
        return _stale(dossier)
    forms = svc.queries.forms(dossier.deployment_id)
    schema = bind_options(forms[view.form], view.data)  # choices from the dossier's data (its EPCI's priorities)
    ui = forms.get(view.ui_form, {}) if view.ui_form else {}
    reader = presenters.reader_for(actor, dossier)
    draft = svc.drafts.get(actor.login, instance_id, task_ref)
    if draft is not None:
        data = draft.data
    else:
        previous = view.data.get(view.form_variable)
        data = previous if isinstance(previous, dict) else {}
    errors: dict[str, list[str]] = {}
    version = dossier.version
    message, status = None, 200
    refused: list[dict] = []  # uploads refused by this post: named at the top of the page
    saved_now = False  # this post saved the draft (despite what it refused)
    if request.method == "POST":
        upload_errors: dict[str, list[str]] = {}
        accepted = []  # checked and hashed while the form is read, then stored together (one transaction)

        def store(upload, path: str) -> str | None:
            try:
                accepted.append(svc.attachments.prepare(upload.filename or "", upload.read()))
                return accepted[-1].ref
            except Invalid as err:
                reason = describe(err) or err.message
                upload_errors[path] = [_("« %(name)s » refusé : %(reason)s", name=upload.filename, reason=reason)]
                refused.append({"filename": upload.filename, "reason": reason})
                return None  # the field keeps the file it had, if any

        result = parse_form(schema, ui, request.form, request.files, prefix="f", store_attachment=store)
        svc.attachments.store_all(instance_id, accepted, actor.login)
        data = result.data
        errors = {**result.errors, **upload_errors}
        if errors:
            # Every error at once: what the schema says of the rest of the form comes with the
            # refusals, a refused field keeping only its own message (more useful than "required").
            errors = {**svc.engine.form_errors(dossier.deployment_id, view.form, data, view.data), **errors}
        if request.form.get("action") == "brouillon":
            try:
                svc.drafts.save(actor.login, instance_id, task_ref, data)
            except Invalid as err:
                message = describe(err) or err.message
            else:
                if not errors:
                    flash(_("Brouillon enregistré. Vous pourrez reprendre plus tard."), "success")
                    return redirect(url_for("dossiers.task", instance_id=instance_id, task_ref=task_ref))
                draft, saved_now = svc.drafts.get(actor.login, instance_id, task_ref), True
                if not refused:  # else the list of refused files says it (task.html)
                    message = _("Brouillon enregistré, sauf les valeurs signalées, qui n’ont pas pu être lues.")
            status = 400
        else:
            try:
                expected = int(request.form.get("version", ""))
            except ValueError:
                expected = None
            if not errors:
                try:
                    svc.engine.complete(actor, instance_id, task_ref, data, expected_version=expected)
                except Invalid as err:  # the schema, or a field naming a file of another dossier
                    errors = field_errors(err) or {"": [describe(err) or err.message]}
                except Conflict as err:
                    still_open = any(v.ref == task_ref for v in svc.engine.task_views(instance_id))
                    if not still_open:
                        return _stale(dossier, describe(err))
                    # Only the version moved (another step of the dossier advanced): keep what was typed.
                    message, status = (
                        _(
                            "Le dossier a changé pendant que vous remplissiez ce formulaire. "
                            "Vérifiez vos réponses puis validez à nouveau."
                        ),
                        409,
                    )
                    version = svc.queries.dossier(instance_id).version
                except NotFound:
                    return _stale(dossier)
                else:
                    svc.drafts.discard(actor.login, instance_id, task_ref)
                    flash(_("Étape « %(name)s » validée.", name=view.name), "success")
                    if actor.roles & STAFF:
                        return redirect(url_for("inbox.index"))
                    return redirect(url_for("dossiers.show", instance_id=instance_id))
            if errors and status == 200:
                message, status = _("Le formulaire comporte des erreurs : corrigez les champs signalés."), 400
    timeline = svc.queries.timeline(instance_id)
    # after the post: with what it uploaded; only what the reader may read
    documents = presenters.documents(reader, dossier, timeline, svc.attachments.list(instance_id))
    context = {"variables": presenters.task_data(reader, dossier, view), **_attachment_context(instance_id, documents)}
    form_html = render_form(schema, ui, data, errors, prefix="f", context=context)
    earlier, requests = _earlier_steps(dossier, reader, documents, timeline, task_ref)
    return render_template(
        "dossiers/task.html",
        dossier=dossier,
        view=view,
        form_html=form_html,
        errors=errors,
        message=message,
        refused=refused,
        draft_saved_now=saved_now,
        draft_saved_at=draft.saved_at if draft is not None else None,
        version=version,
        earlier=earlier,
        requests=requests,
        documents=documents,
    ), status


# The staff's list of dossiers (search and filters) lives beside, on this blueprint.
from . import dossier_search  # noqa: E402,F401
