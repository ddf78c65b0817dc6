"""Import and export of model files on the modeler pages (blueprint ``modeler``).

- ``GET /modeler/versions/<n>/export.zip`` and ``GET /modeler/brouillons/<name>/export.zip``: the
  files of a deployed version or of a draft as a zip (:func:`engine.model_archive.export_zip`:
  stored bytes unchanged, it opens in bpmn.io and Camunda Modeler);
- ``POST /modeler/import`` (multipart: ``name`` and one zip or single ``.bpmn``, ``.dmn`` and form
  files in ``files``): a new draft, or the reason the upload is refused, shown on the drafts page,
  with nothing stored (:func:`engine.model_archive.import_upload`).

Process owners and administrators only; the import form carries the CSRF token. The request body
is bounded before it is read (:data:`MAX_UPLOAD_BYTES`), each file while it is read.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from engine import EngineError, model_archive, version_files
from engine.model_drafts import MAX_DRAFT_BYTES, MAX_FILE_BYTES, MAX_FILES

from .access import current_account, roles_required
from .engine_messages import describe
from .modeler import OWNERS, bp, drafts
from .services import services

#: the largest import request: a whole draft's worth of files and the multipart framing around them.
MAX_UPLOAD_BYTES = MAX_DRAFT_BYTES + 256 * 1024


def _zip_response(files: dict[str, bytes], filename: str) -> Response:
    return Response(model_archive.export_zip(files), mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


@bp.get("/versions/<int:version>/export.zip")
@roles_required(*OWNERS)
def export_version(version: int):
    engine = services().engine
    try:
        with engine.session() as session:
            files = version_files(session, engine.deployments, version)
    except EngineError as err:
        abort(404 if err.code == "version.not_found" else 422, describe(err) or err.message)
    return _zip_response(files, f"dsdt-version-{version}.zip")


@bp.get("/brouillons/<name>/export.zip")
@roles_required(*OWNERS)
def export_draft(name: str):
    return _zip_response(drafts().get(name).files, f"dsdt-brouillon-{name}.zip")


def _refused(message: str):
    flash(_("Import refusé : %(reason)s", reason=message), "error")
    return redirect(url_for(".index"))


@bp.post("/import")
@roles_required(*OWNERS)
def import_draft():
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES:
        return _refused(_("l’envoi dépasse %(limit)s Kio.", limit=MAX_UPLOAD_BYTES // 1024))
    request.max_content_length = MAX_UPLOAD_BYTES  # a body without Content-Length stops there too (413)
    name = request.form.get("name", "").strip()
    sent = [upload for upload in request.files.getlist("files") if upload.filename]
    if not sent:
        return _refused(_("choisissez un zip, ou des fichiers .bpmn, .dmn ou de formulaire."))
    if len(sent) > MAX_FILES:
        return _refused(_("%(max)s fichiers au plus.", max=MAX_FILES))
    uploads = []
    for upload in sent:
        data = upload.stream.read(max(MAX_FILE_BYTES, MAX_DRAFT_BYTES) + 1)  # bounded: a zip may hold the draft
        uploads.append((upload.filename, data))
    try:
        files = model_archive.import_upload(uploads)
        summary = drafts().create(name, files, current_account().login)
    except EngineError as err:
        message = describe(err) or err.message
        if err.code == "model.import_refused":  # its message says so already
            flash(message, "error")
            return redirect(url_for(".index"))
        return _refused(message)
    flash(_("Brouillon %(name)s importé : %(count)s fichier(s).", name=summary.name, count=len(files)), "success")
    return redirect(url_for(".edit", name=summary.name))
