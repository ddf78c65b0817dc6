"""The staff's list of the dossiers of their scope (``/dossiers/tous``): search and filters, paged.

Search by a part of the reference, the title or the porteur's login; filters by open step,
status and EPCI; the scope is :func:`webapp.access.visible_dossiers`' (an EPCI officer never
finds another EPCI's dossier). Criteria are bounded and checked against their lists (400 with a
message otherwise), and kept by the pager's links.
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from engine import limits

from .access import STAFF, TECHNICIENS, current_actor, roles_required, visible_dossiers
from .dossiers import bp
from .services import services

STAFF_PER_PAGE = 50
#: the states the list filters on (Instance.status)
STATUSES = ("running", "completed")
#: the criteria in the query string (each cut to limits.MAX_SHORT_TEXT)
STAFF_CRITERIA = ("q", "etape", "statut", "epci", "campagne")


@bp.route("/tous")
@roles_required(*STAFF)
def staff_list():
    """The dossiers of my scope: search (reference, title, porteur), filters (step, status, EPCI), paged."""
    actor = current_actor()
    svc = services()
    args = {key: request.args.get(key, "").strip()[: limits.MAX_SHORT_TEXT] for key in STAFF_CRITERIA}
    deployment_id = svc.queries.current_deployment_id()
    steps = svc.queries.steps(deployment_id) if deployment_id is not None else {}
    epcis = sorted(actor.epci) if actor.roles & STAFF <= TECHNICIENS else sorted(
        {code for c in svc.queries.campaigns() for code in (c.data.get("epci") or {})})
    errors = []
    if args["statut"] not in ("", *STATUSES):
        errors.append(_("Choisissez un état dans la liste."))
    if args["etape"] and args["etape"] not in steps:
        errors.append(_("Choisissez une étape dans la liste."))
    try:
        page = min(max(int(request.args.get("page", 1)), 1), limits.MAX_PAGE)
    except ValueError:
        page = 1
    dossiers, total = [], 0
    if not errors:
        dossiers, total = visible_dossiers(
            actor,
            epci=args["epci"] or None,
            campaign=args["campagne"] or None,
            text=args["q"] or None,
            step=args["etape"] or None,
            status=args["statut"] or None,
            page=page,
            per_page=STAFF_PER_PAGE,
        )
    pages = max((total + STAFF_PER_PAGE - 1) // STAFF_PER_PAGE, 1)
    kept = {key: value for key, value in args.items() if value}
    return render_template(
        "dossiers/staff_list.html", dossiers=dossiers, total=total, page=page, pages=pages, args=args, kept=kept,
        steps=sorted(steps.values(), key=lambda step: step.name), epcis=epcis, errors=errors,
    ), (400 if errors else 200)
