"""``POST /modeler/api/validate``: every problem of a set of model files, for the modeler's overlays.

The modeler page posts the files as they are in the editors, saved or not, and draws each problem
on its element. Process owners and administrators only; a session request, so the CSRF token goes
in ``X-CSRFToken`` like the editors' other posts. Nothing is stored.

Request: ``{"files": {"processes/x.bpmn": "<xml…>", "forms/y.schema.json": "{…}", …}}`` (the paths
of a draft, :func:`engine.model_drafts.check_files`). Response 200:
``{"problems": [{file, element_id, line, rule, code, params, message}, …]}``, ``message``
translated; 400 when the body is not that shape, 422 when a path is not a model file's.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from engine import EngineError, Invalid, lint_files, roles
from engine.model_drafts import MAX_FILES, check_files

from .access import roles_required
from .engine_messages import describe

bp = Blueprint("modeler_api", __name__, url_prefix="/modeler/api")
OWNERS = (roles.PROCESS_OWNER, roles.ADMIN)


def problem_json(problem) -> dict:
    """A problem as the page reads it, its message in the reader's language."""
    found = problem.as_json()
    found["message"] = describe(EngineError(problem.message, code=problem.code, params=problem.params)) \
        or problem.message
    return found


@bp.route("/validate", methods=["POST"])
@roles_required(*OWNERS)
def validate():
    body = request.get_json(silent=True)
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, dict) or not files or len(files) > MAX_FILES \
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        return jsonify(error=_("Requête invalide : un objet files (chemin → texte du fichier) est attendu.")), 400
    encoded = {path: text.encode("utf-8", "replace") for path, text in files.items()}
    try:
        check_files(encoded)
    except Invalid as err:
        return jsonify(error=describe(err) or err.message, code=err.code, file=err.file), 422
    return jsonify(problems=[problem_json(p) for p in lint_files(encoded)])
