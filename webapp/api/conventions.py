"""Conventions DSDT: list those the caller reads, read one, open one for an EPCI.

The same rules as the pages (:mod:`webapp.conventions`): regional staff read every EPCI's
conventions, a technician of an EPCI its own; a regional officer opens any EPCI's convention, a
technician of the EPCI its own (the engine decides). A convention's steps are tasks
(``/api/tasks``) completed like a dossier's (``/api/dossiers/{id}/tasks/…``).
"""

from __future__ import annotations

from flask import url_for
from marshmallow import Schema, fields

from engine import Invalid, convention_list, conventions, roles

from ..access import current_actor, roles_required
from ..services import services
from . import auth, errors
from .blueprint import Blueprint
from .schemas import SHORT

bp = Blueprint("api_conventions", __name__, url_prefix="/api/conventions",
               description="Conventions DSDT Région–EPCI.")
bp.before_request(auth.authenticate)
errors.register(bp)

READERS = (*sorted(convention_list.READ_ALL), roles.TECHNICIEN_EPCI)


class ConventionSchema(Schema):
    id = fields.Integer()
    ref = fields.String()
    campaign = fields.String(attribute="campaign_code")
    epci = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "running or completed"})
    state = fields.String(metadata={"description": "The model's statut: en_preparation, en_negociation, "
                                                   "avenant_en_negociation, signee, refusee, abandonnee, terminee."})
    outcome = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    version = fields.Integer(metadata={"description": "Signed version (0: never signed; 2+: amended by avenant)."})
    negotiation = fields.Integer(metadata={"description": "Versions proposed so far."})
    priorities = fields.List(fields.String(), metadata={"description": "The signed priorities."})
    proposed = fields.List(fields.String(), metadata={"description": "The last version proposed."})
    open_steps = fields.List(fields.String())
    versions = fields.List(fields.Dict())
    history = fields.List(fields.Dict())
    failed_amendments = fields.List(fields.Dict())


class ConventionListArgs(Schema):
    epci = fields.String(validate=SHORT)


class OpenArgs(Schema):
    campaign = fields.String(required=True, validate=SHORT, metadata={"description": "Code of an open campaign."})
    epci = fields.String(required=True, validate=SHORT, metadata={"description": "Code of an EPCI of the campaign."})


@bp.route("", methods=["GET"])
@roles_required(*READERS)
@bp.arguments(ConventionListArgs, location="query", as_kwargs=True)
@bp.response(200, ConventionSchema(many=True))
@bp.alt_response(403, response="FORBIDDEN")
def list_conventions(epci=None):
    """Conventions the caller reads, newest first (at most 200)"""
    return convention_list.list_conventions(services().engine, current_actor(), epci)


@bp.route("", methods=["POST"])
@roles_required(roles.INSTRUCTEUR, roles.TECHNICIEN_EPCI)
@bp.arguments(OpenArgs)
@bp.response(201, ConventionSchema,
             headers={"Location": {"schema": {"type": "string"}, "description": "The convention"}})
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(409, response="CONFLICT")
def open_convention(args: dict):
    """Open the convention of an EPCI

    409 when the EPCI already has one under negotiation; 403 for a technician of another EPCI.
    """
    svc = services()
    if args["campaign"] not in {c.code for c in svc.queries.campaigns(open_only=True)}:
        raise Invalid("campaign: an open campaign", code="convention.unknown_campaign",
                      params={"campaign": args["campaign"]}, errors={"campaign": ["unknown"]})
    actor = current_actor()
    instance_id = conventions.start_convention(svc.engine, actor, args["campaign"], args["epci"])
    body = convention_list.get_convention(svc.engine, actor, instance_id)
    return body, 201, {"Location": url_for("api_conventions.show", convention_id=instance_id)}


@bp.route("/<int:convention_id>", methods=["GET"])
@roles_required(*READERS)
@bp.response(200, ConventionSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def show(convention_id: int):
    """One convention: its state, reason, versions and signed priorities"""
    return convention_list.get_convention(services().engine, current_actor(), convention_id)
