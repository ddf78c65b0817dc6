"""Dossiers: list and read those the caller may see, start an application, withdraw it."""

from __future__ import annotations

from flask import url_for

from engine import Invalid, roles

from .. import receipts
from ..access import current_actor, roles_required, visible_dossiers
from ..services import services
from . import auth, errors, present
from .blueprint import Blueprint
from .schemas import (
    DossierDetailSchema,
    DossierListArgs,
    DossierListSchema,
    DossierSchema,
    ReceiptArgs,
    StartArgs,
    WithdrawArgs,
)

bp = Blueprint("api_dossiers", __name__, url_prefix="/api/dossiers", description="Dossiers de candidature.")
bp.before_request(auth.authenticate)
errors.register(bp)


@bp.route("", methods=["GET"])
@bp.arguments(DossierListArgs, location="query", as_kwargs=True)
@bp.response(200, DossierListSchema)
def list_dossiers(page, per_page=None, epci=None, campaign=None):
    """Dossiers the caller may see

    A porteur gets their own, a technicien those of their EPCI, regional staff all of them, a jury
    member those of their jury session (minus any where they declared a conflict of interest).
    """
    actor = current_actor()
    per_page = per_page or 50
    rows, total = visible_dossiers(actor, epci=epci, campaign=campaign, page=page, per_page=per_page)
    return present.page([present.dossier(actor, row) for row in rows], total, page, per_page)


@bp.route("", methods=["POST"])
@roles_required(roles.PORTEUR)
@bp.arguments(StartArgs)
@bp.response(201, DossierSchema, headers={"Location": {"schema": {"type": "string"}, "description": "The dossier"}})
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(409, response="CONFLICT")
def start(args: dict):
    """Start an application (porteur)

    In an open campaign; the dossier's first step (contact préalable) is then open to the caller.
    409 when the campaign is closed.
    """
    actor = current_actor()
    svc = services()
    known = {c.code for c in svc.queries.campaigns()}
    if args["campaign"] not in known:
        raise Invalid(
            "Campagne inconnue : choisissez une campagne ouverte.",
            errors={"campaign": [f"Campagnes ouvertes : {', '.join(c.code for c in svc.queries.campaigns(True))}."]},
        )
    instance_id = svc.engine.start(actor, args["campaign"])
    body = present.dossier(actor, svc.queries.dossier(instance_id))
    return body, 201, {"Location": url_for("api_dossiers.show", dossier_id=instance_id)}


@bp.route("/<int:dossier_id>", methods=["GET"])
@auth.dossier_in_scope
@bp.response(200, DossierDetailSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def show(dossier):
    """One dossier

    Summary, status, outcome and reason, open steps and version; and what the dossier page shows
    the caller: timeline, documents, earlier steps and, for the porteur, what is asked of them
    (the same presenter as the pages: a porteur never gets jury scores, members' names or
    internal comments). 404 for a porteur when it is not theirs (its existence is not revealed),
    403 for staff outside its scope.
    """
    return present.dossier_detail(current_actor(), dossier)


@bp.route("/<int:dossier_id>/receipt", methods=["GET"])
@auth.dossier_in_scope
@bp.arguments(ReceiptArgs, location="query", as_kwargs=True)
@bp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf",
             description="The receipt (PDF).")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def receipt(dossier, seq=None):
    """Récépissé de dépôt of a porteur submission (PDF)

    The dossier's reference, porteur and association, the step, the submission time (Europe/Paris),
    the files with their size and sha256, and the journal entry's hash. ``seq`` names the journal
    entry of the submission (default: the latest); 404 when it is not a porteur's submission.
    Anyone who may read the dossier may have it.
    """
    return receipts.response(receipts.read(dossier.id, seq))


@bp.route("/<int:dossier_id>/withdraw", methods=["POST"])
@roles_required(roles.PORTEUR)
@auth.dossier_in_scope
@bp.arguments(WithdrawArgs)
@bp.response(200, DossierSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def withdraw(args: dict, dossier):
    """Withdraw an application (its porteur)

    Possible until the convention is signed (409 after). The motive is kept as the reason.
    """
    services().engine.withdraw(current_actor(), dossier.id, args["motif"])
    return present.dossier(current_actor(), services().queries.dossier(dossier.id))
