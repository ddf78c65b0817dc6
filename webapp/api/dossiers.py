"""Dossiers: list and read those the caller may see, start an application, withdraw it."""

from __future__ import annotations

from flask import url_for
from flask_smorest import Blueprint

from engine import Actor, Invalid, roles

from ..access import JURY, SEE_ALL, STAFF, TECHNICIENS, can_see, current_actor, roles_required
from ..services import services
from . import auth, errors, present
from .schemas import DossierListArgs, DossierListSchema, DossierSchema, StartArgs, WithdrawArgs

bp = Blueprint("api_dossiers", __name__, url_prefix="/api/dossiers", description="Dossiers de candidature.")
bp.before_request(auth.authenticate)
errors.register(bp)

#: lists every dossier, for narrowing down with `can_see` (never to decide what is shown)
_EVERY_DOSSIER = frozenset({roles.AUDITOR})


def visible(actor: Actor, *, epci: str | None, campaign: str | None, page: int, per_page: int):
    """One page of the dossiers `actor` may see and their count, newest activity first.

    Regional staff and techniciens are paged in SQL (the query applies the same EPCI scope as
    :func:`~webapp.access.can_see`). Jury members and porteurs have few dossiers, read whole and
    kept when :func:`~webapp.access.can_see` says so.
    """
    queries = services().queries
    staff = actor.roles & STAFF
    if actor.roles & SEE_ALL or (staff and staff <= TECHNICIENS):
        return queries.dossiers_for_staff(actor, epci=epci, campaign=campaign, page=page, per_page=per_page)
    candidates = queries.dossiers_of_porteur(actor.login) if actor.has(roles.PORTEUR) else []
    if staff & JURY:
        seen = {d.id for d in candidates}
        # Only a dossier some jury has reached can be a jury member's (can_see decides which).
        candidates += [d for d in _every_dossier(actor, epci, campaign) if d.jury_type and d.id not in seen]
        candidates.sort(key=lambda d: (d.updated_at, d.id), reverse=True)
    shown = [
        d
        for d in candidates
        if (not epci or d.epci == epci) and (not campaign or d.campaign_code == campaign) and can_see(actor, d)
    ]
    return shown[(page - 1) * per_page : page * per_page], len(shown)


def _every_dossier(actor: Actor, epci: str | None, campaign: str | None, chunk: int = 500):
    reader = Actor(actor.login, _EVERY_DOSSIER)
    page = 1
    while True:
        rows, total = services().queries.dossiers_for_staff(
            reader, epci=epci, campaign=campaign, page=page, per_page=chunk
        )
        yield from rows
        if page * chunk >= total:
            return
        page += 1


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
    rows, total = visible(actor, epci=epci, campaign=campaign, page=page, per_page=per_page)
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
@bp.response(200, DossierSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def show(dossier):
    """One dossier

    Summary, status, outcome and reason, open steps and version. 404 for a porteur when it is not
    theirs (its existence is not revealed), 403 for staff outside its scope.
    """
    return present.dossier(current_actor(), dossier)


@bp.route("/<int:dossier_id>/withdraw", methods=["POST"])
@roles_required(roles.PORTEUR)
@auth.dossier_in_scope
@bp.arguments(WithdrawArgs)
@bp.response(200, DossierSchema)
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
def withdraw(args: dict, dossier):
    """Withdraw an application (its porteur)

    Possible until the convention is signed (409 after). The motive is kept as the reason.
    """
    services().engine.withdraw(current_actor(), dossier.id, args["motif"])
    return present.dossier(current_actor(), services().queries.dossier(dossier.id))
