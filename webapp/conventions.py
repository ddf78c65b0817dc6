"""Convention pages: the conventions DSDT per EPCI, opening one, and a convention's state.

Regional staff read every EPCI's conventions, a technician of an EPCI its own
(:func:`engine.convention_list.readable_epci`); a regional officer opens any EPCI's convention, a
technician of the EPCI its own (:func:`engine.conventions.start_convention` decides, again, on
the command). A convention's steps are tasks of the inbox and are done on the dossier task page;
its history is the dossier page's.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine import Conflict, Forbidden, Invalid, convention_list, conventions, roles

from .access import can_do, current_actor, load_dossier_or_404, roles_required
from .engine_messages import describe
from .services import services

bp = Blueprint("conventions", __name__, url_prefix="/conventions")

#: who reads conventions (the engine narrows a technician to their EPCI)
READERS = (*sorted(convention_list.READ_ALL), roles.TECHNICIEN_EPCI)

#: the model's ``statut`` of a convention, as people read it
STATE_LABELS = {
    "en_preparation": _l("En préparation (projet de territoire, diagnostic)"),
    "en_negociation": _l("Priorités en négociation"),
    "avenant_en_negociation": _l("Avenant en négociation (la version signée reste en vigueur)"),
    "signee": _l("Signée, en vigueur"),
    "refusee": _l("Refusée par un vote"),
    "abandonnee": _l("Négociation abandonnée"),
    "terminee": _l("Terminée"),
}


def _openable(actor) -> dict[str, list[str]]:
    """Open campaign code → the EPCI whose convention ``actor`` may open in it."""
    svc = services()
    found = {c.code: convention_list.openable_epci(svc.engine, actor, c.code)
             for c in svc.queries.campaigns(open_only=True)}
    return {code: epcis for code, epcis in found.items() if epcis}


def _index(error: str | None = None, values: dict | None = None, status: int = 200):
    actor = current_actor()
    epci = (request.args.get("epci") or "").strip()[:20] or None
    items = convention_list.list_conventions(services().engine, actor, epci)
    openable = _openable(actor)
    return render_template("conventions/index.html", conventions=items, openable=openable, epci=epci,
                           all_epci=sorted({e for epcis in openable.values() for e in epcis}),
                           states=STATE_LABELS, error=error, values=values or {}), status


@bp.route("/")
@roles_required(*READERS)
def index():
    return _index()


@bp.route("/ouvrir", methods=("POST",))
@roles_required(roles.INSTRUCTEUR, roles.TECHNICIEN_EPCI)
def open_convention():
    values = {key: (request.form.get(key) or "").strip()[:40] for key in ("campagne", "epci")}
    svc = services()
    try:
        if values["campagne"] not in {c.code for c in svc.queries.campaigns(open_only=True)}:
            raise Invalid("campagne: an open campaign", code="convention.unknown_campaign",
                          params={"campaign": values["campagne"]}, errors={"campagne": ["unknown"]})
        instance_id = conventions.start_convention(svc.engine, current_actor(), values["campagne"], values["epci"])
    except (Invalid, Conflict, Forbidden) as err:
        status = 400 if isinstance(err, Invalid) else 409 if isinstance(err, Conflict) else 403
        return _index(describe(err) or _("La convention n’a pas pu être ouverte."), values, status)
    flash(_("Convention ouverte pour l’EPCI %(epci)s.", epci=values["epci"]), "success")
    return redirect(url_for("conventions.show", instance_id=instance_id))


@bp.route("/<int:instance_id>")
@roles_required(*READERS)
def show(instance_id: int):
    actor = current_actor()
    svc = services()
    convention = convention_list.get_convention(svc.engine, actor, instance_id)
    dossier = load_dossier_or_404(instance_id)  # the same scope rule as every dossier page
    steps = [{"step": step, "doable": can_do(actor, dossier, step.role, step.assignee, step.claimed_by)}
             for step in dossier.open_steps]
    return render_template("conventions/show.html", convention=convention, steps=steps,
                           states=STATE_LABELS, now=svc.engine.now())
