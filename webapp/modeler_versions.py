"""The process owners' versions pages (blueprint ``modeler``): the deployed versions, the diff
between any two, and the migration of running dossiers from one version to another.

Views parse the request, call one engine function and render; process owners and administrators
only; the migration form carries the CSRF token and a mandatory reason.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import DIFF_MAX_VALUE as MAX_VALUE
from engine import EngineError, diff_versions, list_versions, migrate_dossiers, version_files

from .access import current_actor, roles_required
from .engine_messages import describe
from .modeler import OWNERS, bp
from .services import services

#: the most references one migration form accepts (the engine bounds a request too)
MAX_REFS = 500


def _version_arg(name: str) -> int:
    value = request.args.get(name, "")
    if not value.isdigit() or len(value) > 9:
        abort(400, _("Indiquez deux numéros de version."))
    return int(value)


@bp.get("/versions")
@roles_required(*OWNERS)
def versions():
    engine = services().engine
    with engine.session() as session:
        rows = list_versions(session)
    return render_template("modeler/versions.html", versions=rows)


@bp.get("/versions/diff")
@roles_required(*OWNERS)
def version_diff():
    old, new = _version_arg("from"), _version_arg("to")
    engine = services().engine
    try:
        with engine.session() as session:
            diff = diff_versions(session, engine.deployments, old, new)
            old_files = version_files(session, engine.deployments, old)
            new_files = version_files(session, engine.deployments, new)
    except EngineError as err:
        abort(404 if err.code == "version.not_found" else 422, describe(err) or err.message)
    changed_bpmn = sorted({item.file for item in diff.bpmn})
    diagrams = [{"file": path,
                 "old": old_files.get(path, b"").decode("utf-8", "replace"),
                 "new": new_files.get(path, b"").decode("utf-8", "replace"),
                 "marks": diff.marks(path)} for path in changed_bpmn]
    return render_template("modeler/version_diff.html", diff=diff, old=old, new=new, diagrams=diagrams,
                           max_value=MAX_VALUE)


@bp.post("/versions/migrate")
@roles_required(*OWNERS)
def migrate():
    form = request.form
    target = form.get("to", "")
    source = form.get("from", "").strip()
    refs = [ref for ref in form.get("refs", "").replace(",", " ").split() if ref]
    if not target.isdigit() or len(target) > 9 or (source and (not source.isdigit() or len(source) > 9)):
        flash(_("Indiquez des numéros de version."), "error")
        return redirect(url_for(".versions"))
    if len(refs) > MAX_REFS:
        flash(_("%(max)s dossiers au plus par migration.", max=MAX_REFS), "error")
        return redirect(url_for(".versions"))
    try:
        report = migrate_dossiers(services().engine, current_actor(), int(target), reason=form.get("reason", ""),
                                  refs=refs or None, from_version=int(source) if source else None)
    except EngineError as err:
        flash(describe(err) or err.message, "error")
        return redirect(url_for(".versions"))
    flash(_("%(count)s dossier(s) migré(s) vers la version %(version)s.", count=len(report.migrated),
            version=report.to_version), "success")
    return redirect(url_for(".versions"))
