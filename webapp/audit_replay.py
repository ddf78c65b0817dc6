"""The step-by-step replay of a dossier on its diagram, for the auditors' pages (roles of
:data:`webapp.audit.AUDIT_ROLES`).

``/audit/dossiers/<id>/rejeu?entree=k`` shows the dossier as it stood after journal entry ``k``:
the steps open then, the phases gone through, the events waited for and the dossier's data, with
links to the entry before and after and a slider (a GET form) to any entry: all of it works
without JavaScript. With it, ``replay.js`` draws the diagrams (``schemas.json``, once) and moves
between entries through ``rejeu.json?entree=k``: the marks of each process and the same text,
rendered here, so that every word stays in the translation catalogues.

The state is computed by the engine (:meth:`engine.Audit.replay`), which re-executes the journal
on the dossier's pinned version with ``verify``'s code; nothing here reads a stored picture.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _

from engine import Audit, EngineError, Invalid, NotFound

from .access import roles_required
from .audit import AUDIT_ROLES
from .diagram import ordered_processes
from .engine_messages import describe
from .services import services

bp = Blueprint("replay", __name__, url_prefix="/audit/dossiers")


def _entry(args) -> int:
    """The entry asked for (``entree``, 1 by default); :class:`Invalid` when it is not a number."""
    raw = (args.get("entree") or "1").strip()
    if not raw.isdigit() or len(raw) > 9:
        raise Invalid(_("Le numéro d’entrée est un nombre entier positif, par exemple 3."))
    return int(raw)


def _processes(deployment_id: int) -> list:
    """The BPMN processes of one deployment, main process first."""
    svc = services()
    return ordered_processes(svc.queries.model_files(deployment_id),
                             svc.queries.contract(deployment_id).main_process)


def _called_by(ordered) -> dict[str, str]:
    """Phase process id → the id of the main process's call activity that runs it."""
    return {called: call_id for call_id, called in ordered[0].calls} if ordered else {}


def _context(instance_id: int):
    """The dossier, its replay at the entry asked for, and its processes with their marks."""
    dossier = services().queries.dossier(instance_id)  # NotFound for an unknown id
    view = Audit(services().engine).replay(instance_id, _entry(request.args))
    point = view.point
    processes = []
    ordered = _processes(view.deployment_id)  # a migrated dossier: the version of that entry
    called_by = _called_by(ordered)
    for index, process in enumerate(ordered):
        marks = point.processes.get(process.process_id) if point else None
        names = dict(process.names)
        processes.append({
            "process": process.process_id,
            "name": process.name,
            "main": index == 0,
            "calledBy": None if index == 0 else called_by.get(process.process_id),
            "entered": marks is not None,
            "done": marks.done if marks else [],
            "active": marks.active if marks else [],
            "waiting": marks.waiting if marks else [],
            "activeNames": [names.get(i, i) for i in marks.active] if marks else [],
            "waitingNames": [names.get(i, i) for i in marks.waiting] if marks else [],
        })
    return dossier, view, processes


def _state_html(dossier, view, processes) -> str:
    return render_template("audit/_replay_state.html", dossier=dossier, view=view, processes=processes)


@bp.route("/<int:instance_id>/rejeu")
@roles_required(*AUDIT_ROLES)
def page(instance_id: int):
    dossier, view, processes = _context(instance_id)
    return render_template("audit/replay.html", dossier=dossier, view=view, processes=processes)


@bp.route("/<int:instance_id>/rejeu.json")
@roles_required(*AUDIT_ROLES)
def data(instance_id: int):
    """The state after entry ``entree`` as JSON: marks per process, open steps, data, and the page's
    text for it (``html``). Bad input gets ``{reason, message}`` and 400 (404: no such dossier)."""
    try:
        dossier, view, processes = _context(instance_id)
    except EngineError as err:
        status = 404 if isinstance(err, NotFound) else 400
        return jsonify(reason=err.code, params=err.params, message=str(describe(err))), status
    point = view.point
    return jsonify(
        dossier=dossier.ref,
        entry=view.entry,
        total=view.total,
        version=view.version,
        problem=view.problem,
        finished=point.finished if point else None,
        command=view.entries[view.entry - 1].command,
        at=view.entries[view.entry - 1].at.isoformat(),
        actor=view.entries[view.entry - 1].actor,
        openSteps=[{"bpmnId": s.bpmn_id, "name": s.name, "role": s.role} for s in point.open_steps] if point else [],
        data=point.data if point else None,
        changed=point.changed if point else [],
        processes=[{key: value for key, value in p.items() if not key.endswith("Names")} for p in processes],
        html=_state_html(dossier, view, processes),
    )


@bp.route("/<int:instance_id>/schemas.json")
@roles_required(*AUDIT_ROLES)
def diagrams(instance_id: int):
    """The BPMN of the dossier's pinned version (main process first, then its phases), read once by
    ``replay.js``; the marks of each entry come from ``rejeu.json``."""
    dossier = services().queries.dossier(instance_id)
    processes = _processes(dossier.deployment_id)
    called_by = _called_by(processes)
    return jsonify(diagrams=[
        {"process": p.process_id, "name": p.name, "main": index == 0,
         "calledBy": None if index == 0 else called_by.get(p.process_id), "xml": p.xml}
        for index, p in enumerate(processes)
    ])
