"""Test against history on the modeler's pages (blueprint ``modeler``): start a test of a draft or
a deployed version against every recorded dossier, follow its progress, cancel it.

The test runs in a background thread of the worker that received the start
(:mod:`engine.history_check_jobs`); its progress is a row of ``history_check``, so the progress
page and the Cancel button work whichever worker they reach. While the test runs, the progress
page follows ``…/etat.json`` with a small script (no timed reload, which would interrupt a screen
reader); without JavaScript an "Actualiser" link loads it again. Process owners and administrators
only; posts carry the CSRF token.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import EngineError, NotFound, cancel_check, check_status, start_check

from .access import current_actor, roles_required
from .engine_messages import describe
from .modeler import OWNERS, bp
from .services import services

#: seconds between two reads of the progress while the test runs
REFRESH_SECONDS = 2


def _status(check_id: int):
    try:
        return check_status(services().engine, current_actor(), check_id)
    except NotFound:
        abort(404)


@bp.post("/historique")
@roles_required(*OWNERS)
def start_history_check():
    draft = (request.form.get("draft") or "").strip() or None
    version = (request.form.get("version") or "").strip()
    if version and (not version.isdigit() or len(version) > 9):
        flash(_("Indiquez un numéro de version."), "error")
        return redirect(url_for(".index"))
    try:
        check_id = start_check(services().engine, current_actor(), draft=draft,
                               version=int(version) if version else None)
    except EngineError as err:
        flash(describe(err) or err.message, "error")
        return redirect(url_for(".edit", name=draft) if draft else url_for(".versions"))
    return redirect(url_for(".history_check", check_id=check_id))


@bp.get("/historique/<int:check_id>")
@roles_required(*OWNERS)
def history_check(check_id: int):
    view = _status(check_id)
    return render_template("modeler/history_check.html", check=view, refresh=REFRESH_SECONDS)


@bp.get("/historique/<int:check_id>/etat.json")
@roles_required(*OWNERS)
def history_check_json(check_id: int):
    view = _status(check_id)
    return jsonify(id=view.id, source=view.source, status=view.status, total=view.total, checked=view.checked,
                   same=view.same, divergedCount=view.diverged_count, diverged=view.diverged,
                   cancelRequested=view.cancel_requested, finished=view.finished)


@bp.post("/historique/<int:check_id>/annuler")
@roles_required(*OWNERS)
def cancel_history_check(check_id: int):
    try:
        cancel_check(services().engine, current_actor(), check_id)
    except NotFound:
        abort(404)
    flash(_("Le test s’arrête après le dossier en cours."), "success")
    return redirect(url_for(".history_check", check_id=check_id))
