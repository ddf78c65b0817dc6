"""The process owners' modeler: drafts of the model files, the BPMN, DMN and form editors, deploy.

Process owners and administrators only; every post carries the CSRF token (the editors' JSON posts
send it in ``X-CSRFToken``). A save names the draft revision the page was opened on: when another
owner saved meanwhile the save is refused (409) with who and which revision, never overwritten.
The pages list the draft's files and offer deploy without JavaScript; the editors need it
(bpmn-js, dmn-js), the form editor's textareas and preview work without it.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from engine import Conflict, EngineError, Invalid, ModelDrafts, NotFound, limits, lint_files, model_drafts, roles

from .access import current_account, roles_required
from .engine_messages import describe
from .filters import when
from .modeler_api import problem_json
from .modeler_labels import bpmn_labels, common_labels, lane_roles, panel_translations
from .schema_forms import render_form
from .services import services

bp = Blueprint("modeler", __name__, url_prefix="/modeler")
OWNERS = (roles.PROCESS_OWNER, roles.ADMIN)
_STATUS = {Conflict: 409, Invalid: 422, NotFound: 404}
#: The application's CSP, with inline styles allowed: bpmn-js, dmn-js and the properties panel
#: write ``style`` attributes (positions, sizes) on the elements they draw. Scripts stay 'self' only.
EDITOR_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@bp.after_request
def editor_csp(response):
    response.headers.setdefault("Content-Security-Policy", EDITOR_CSP)
    return response


def drafts() -> ModelDrafts:
    svc = services()
    return ModelDrafts(svc.engine.db, svc.engine.clock)


def _message(err: EngineError) -> str:
    return describe(err) or err.message


def _json_error(err: EngineError):
    status = next((code for cls, code in _STATUS.items() if isinstance(err, cls)), 400)
    return jsonify(error=_message(err), code=err.code), status


def _summary_text(summary) -> str:
    return _("Révision %(revision)s, enregistrée par %(by)s le %(at)s",
             revision=summary.revision, by=summary.updated_by, at=when(summary.updated_at))


def _file_groups(files: dict[str, bytes]) -> dict[str, list[str]]:
    forms = sorted({path[len("forms/"):].split(".")[0] for path in files if path.endswith(".schema.json")})
    return {
        "bpmn": sorted(p for p in files if p.endswith(".bpmn")),
        "dmn": sorted(p for p in files if p.endswith(".dmn")),
        "forms": forms,
        "other": sorted(p for p in files if p.startswith("processes/") and p.endswith(".json")),
    }


def _editor_config(draft, path: str, labels: dict) -> dict:
    """The editors' settings, written in the page as JSON (``<script type="application/json">``:
    the CSP runs no inline code)."""
    return {
        "path": path, "xml": draft.files[path].decode("utf-8", "replace"), "revision": draft.revision,
        "csrf": generate_csrf(), "labels": labels,
        "saveUrl": url_for(".save_file", name=draft.name), "checkUrl": url_for(".check", name=draft.name),
    }


@bp.route("/")
@roles_required(*OWNERS)
def index():
    return render_template("modeler/index.html", drafts=drafts().list(),
                           import_limit_kib=model_drafts.MAX_DRAFT_BYTES // 1024)


@bp.route("/brouillons", methods=["POST"])
@roles_required(*OWNERS)
def create():
    name = request.form.get("name", "").strip()
    try:
        drafts().create_from_deployment(name, None, current_account().login)
    except EngineError as err:
        flash(_message(err), "error")
        return redirect(url_for(".index"))
    flash(_("Brouillon %(name)s créé à partir de la version en vigueur.", name=name), "success")
    return redirect(url_for(".edit", name=name))


@bp.route("/brouillons/<name>")
@roles_required(*OWNERS)
def edit(name: str):
    draft = drafts().get(name)
    groups = _file_groups(draft.files)
    main = [p for p in groups["bpmn"] if p.endswith("dsdt_candidature.bpmn")] + groups["bpmn"]
    path = request.args.get("fichier") or (main[0] if main else None)
    if path is not None and path not in groups["bpmn"]:
        abort(404)
    config = _editor_config(draft, path, bpmn_labels()) if path else None
    if config is not None:
        config["translations"] = panel_translations()
        config["roles"] = lane_roles()
    return render_template("modeler/edit.html", draft=draft, groups=groups, path=path, config=config,
                           summary=_summary_text(draft.summary))


@bp.route("/brouillons/<name>/dmn")
@roles_required(*OWNERS)
def dmn(name: str):
    draft = drafts().get(name)
    groups = _file_groups(draft.files)
    path = request.args.get("fichier") or (groups["dmn"][0] if groups["dmn"] else None)
    if path not in groups["dmn"]:
        abort(404)
    return render_template("modeler/dmn.html", draft=draft, groups=groups, path=path,
                           config=_editor_config(draft, path, common_labels()), summary=_summary_text(draft.summary))


@bp.route("/brouillons/<name>/fichier", methods=["POST"])
@roles_required(*OWNERS)
def save_file(name: str):
    """JSON {path, content, revision}: one file of the draft replaced (the others kept)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("path"), str) or not isinstance(body.get("content"), str) \
            or not isinstance(body.get("revision"), int):
        return jsonify(error=_("Requête invalide : path, content et revision sont attendus.")), 400
    store = drafts()
    try:
        files = dict(store.get(name).files)
        files[body["path"]] = body["content"].encode("utf-8")
        summary = store.save(name, files, current_account().login, body["revision"])
    except EngineError as err:
        return _json_error(err)
    return jsonify(revision=summary.revision, summary=_summary_text(summary),
                   message=_("Brouillon enregistré (révision %(revision)s).", revision=summary.revision))


@bp.route("/brouillons/<name>/verification", methods=["POST"])
@roles_required(*OWNERS)
def check(name: str):
    """JSON: every reason deploy would refuse the draft as saved (:func:`engine.bpmn.lint.lint_files`),
    each naming file, element and rule; the page draws them on the elements."""
    try:
        files = drafts().get(name).files
    except EngineError as err:
        return _json_error(err)
    # The same checks as `dsdt lint` and POST /modeler/api/validate: every problem, not only deploy's first.
    return jsonify(problems=[problem_json(p) for p in lint_files(files, services().engine.clock.now())])


def _form_texts(draft, form: str) -> tuple[str, str]:
    schema = draft.files.get(f"forms/{form}.schema.json")
    if schema is None:
        abort(404)
    ui = draft.files.get(f"forms/{form}.uischema.json", b"{}")
    return schema.decode("utf-8", "replace"), ui.decode("utf-8", "replace")


def _preview(schema_text: str, ui_text: str):
    """The form as staff would see it, or the error that makes it unusable (and 422)."""
    try:
        schema, ui = model_drafts.form_documents(schema_text, ui_text)
        return render_form(schema, ui, {}, {}, prefix="apercu"), None
    except Invalid as err:
        return None, _message(err)


@bp.route("/brouillons/<name>/formulaire/<form>", methods=["GET", "POST"])
@roles_required(*OWNERS)
def form_editor(name: str, form: str):
    store = drafts()
    draft = store.get(name)
    schema_text, ui_text = _form_texts(draft, form)
    revision, status = draft.revision, 200
    if request.method == "POST":
        schema_text = limits.check_text("schema", request.form.get("schema", ""), model_drafts.MAX_FILE_BYTES)
        ui_text = limits.check_text("uischema", request.form.get("uischema", ""), model_drafts.MAX_FILE_BYTES)
        revision = request.form.get("revision", type=int) or 0
        preview, error = _preview(schema_text, ui_text)
        if error is None and request.form.get("action") == "save":
            files = dict(draft.files)
            files[f"forms/{form}.schema.json"] = schema_text.encode()
            files[f"forms/{form}.uischema.json"] = ui_text.encode()
            try:
                summary = store.save(name, files, current_account().login, revision)
            except Conflict as err:
                error, status = _message(err), 409
            else:
                flash(_("Formulaire %(form)s enregistré (révision %(revision)s).", form=form,
                        revision=summary.revision), "success")
                return redirect(url_for(".form_editor", name=name, form=form))
        elif error is not None:
            status = 422
    else:
        preview, error = _preview(schema_text, ui_text)
    return render_template("modeler/form.html", draft=draft, groups=_file_groups(draft.files), form=form,
                           schema_text=schema_text, ui_text=ui_text, revision=revision, preview=preview,
                           error=error, summary=_summary_text(draft.summary)), status


@bp.route("/brouillons/<name>/formulaire/<form>/apercu", methods=["POST"])
@roles_required(*OWNERS)
def form_preview(name: str, form: str):
    """The preview alone (HTML fragment) for the editor's script: 422 with the error when unusable."""
    drafts().get(name)  # 404 for an unknown draft
    schema_text = request.form.get("schema", "")
    ui_text = request.form.get("uischema", "")
    preview, error = _preview(schema_text, ui_text)
    if error is not None:
        return render_template("modeler/_preview_error.html", error=error), 422
    return render_template("modeler/_preview.html", preview=preview)


@bp.route("/brouillons/<name>/deployer", methods=["POST"])
@roles_required(*OWNERS)
def deploy(name: str):
    comment = limits.check_text("comment", request.form.get("comment", "").strip(), limits.MAX_TEXT)
    if not comment:
        flash(_("Indiquez un commentaire : il décrit la nouvelle version."), "error")
        return redirect(url_for(".edit", name=name))
    files = drafts().get(name).files
    svc = services()
    try:
        info = svc.engine.deploy(files, author=current_account().login, comment=comment)
    except Invalid as err:
        where = " — ".join(str(part) for part in (err.file, err.bpmn_id) if part)
        reason = " : ".join(part for part in (where, _message(err)) if part)
        flash(_("Déploiement refusé : %(reason)s", reason=reason), "error")
        return redirect(url_for(".edit", name=name))
    if info.created:
        flash(_("Version %(version)s déployée.", version=info.version), "success")
    else:
        flash(_("Rien n’a changé depuis la version %(version)s : aucune nouvelle version.", version=info.version),
              "info")
    return redirect(url_for(".edit", name=name))


@bp.route("/brouillons/<name>/supprimer", methods=["POST"])
@roles_required(*OWNERS)
def delete(name: str):
    drafts().delete(name)
    flash(_("Brouillon %(name)s supprimé.", name=name), "success")
    return redirect(url_for(".index"))
