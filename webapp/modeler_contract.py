"""The draft's contract page (blueprint ``modeler``): ``processes/contract.json`` edited as JSON.

The contract says what the application reads from the model (main process, data fields, porteur
steps, jury steps, withdrawal message; processes/README.md, Contract). A save is checked first with
the same rules as deploy (:func:`engine.bpmn.lint.lint_files`): a contract that is not JSON, misses
a key or names what the diagrams do not hold is refused (422) with every problem listed, and the
draft is left unchanged. A save names the draft revision the page was opened on: 409 when another
owner saved meanwhile. Process owners and administrators only; the form carries the CSRF token.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import CONTRACT_FILE, Conflict, limits, lint_files, model_drafts

from .access import current_account, roles_required
from .modeler import OWNERS, _file_groups, _message, _summary_text, bp, drafts
from .modeler_api import problem_json
from .services import services


def _contract_problems(files: dict[str, bytes]) -> list[dict]:
    """The problems deploy would find in the contract of ``files`` (those of other files are the
    diagram editor's: they do not block a contract save)."""
    return [problem_json(p) for p in lint_files(files, services().engine.clock.now())
            if p.rule == "contract" or p.file == CONTRACT_FILE]


@bp.route("/brouillons/<name>/contrat", methods=["GET", "POST"])
@roles_required(*OWNERS)
def contract(name: str):
    store = drafts()
    draft = store.get(name)
    text = draft.files.get(CONTRACT_FILE, b"").decode("utf-8", "replace")
    revision, problems, error, status = draft.revision, [], None, 200
    if request.method == "POST":
        text = limits.check_text("contract", request.form.get("contract", ""), model_drafts.MAX_FILE_BYTES)
        revision = request.form.get("revision", type=int)
        if revision is None:
            abort(400, _("Requête invalide : la révision du brouillon est attendue."))
        files = dict(draft.files)
        files[CONTRACT_FILE] = text.encode("utf-8")
        problems = _contract_problems(files)
        if problems:
            error, status = _("Contrat refusé : le brouillon n’a pas été modifié."), 422
        else:
            try:
                summary = store.save(name, files, current_account().login, revision)
            except Conflict as err:
                error, status = _message(err), 409
            else:
                flash(_("Contrat du modèle enregistré (révision %(revision)s).", revision=summary.revision),
                      "success")
                return redirect(url_for(".contract", name=name))
    return render_template("modeler/contract.html", draft=draft, groups=_file_groups(draft.files),
                           contract_text=text, revision=revision, problems=problems, error=error,
                           summary=_summary_text(draft.summary)), status
