"""Messages: deliver a BPMN message to the running dossiers waiting for it, correlated on their data.

``POST /api/messages`` is ``dsdt message NAME --correlation KEY=VALUE --payload JSON`` over the
token API: one journaled command per dossier reached (:meth:`engine.WorkflowEngine.deliver_message`).

Who may send: instructeurs and administrateurs, the roles the engine accepts as senders
(:func:`engine.events.check_sender`): a message moves a dossier outside any step's form, so it is
for the Région's staff who run the call, never for a porteur, a technicien, a jury member or an
auditor. The route checks the role first (403 ``forbidden``), the engine checks it again.

Answers: 200 with the dossiers reached; 404 ``event.no_receiver`` when no running dossier
matching the correlation waits for the message (nothing changed); 422 for a missing name or
correlation, a correlation value that is not a plain value, or a payload that is not a bounded
JSON object.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine import NotFound, roles

from ..access import current_actor, roles_required
from ..services import services
from . import auth, errors
from .blueprint import Blueprint

bp = Blueprint("api_messages", __name__, url_prefix="/api/messages",
               description="Messages BPMN : réveiller les dossiers qui les attendent.")
bp.before_request(auth.authenticate)
errors.register(bp)

SENDERS = (roles.INSTRUCTEUR, roles.ADMIN)


class MessageArgs(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"description": "The message's name, as the BPMN model declares it.",
                                   "example": "retrait_porteur"})
    correlation = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=100)), values=fields.Raw(allow_none=True),
        required=True,
        metadata={"description": "Data keys the waiting dossier must hold with these plain values (at least "
                                 "one; without one a message would reach every waiting dossier).",
                  "example": {"dossier_ref": "DSDT-2014-00012"}})
    payload = fields.Dict(
        load_default=dict,
        metadata={"description": "What the waiting event's message variable receives (a JSON object, bounded in "
                                 "size).", "example": {"motif": "Projet abandonné"}})


class MessageResultSchema(Schema):
    reached = fields.List(fields.Integer(), metadata={"description": "The ids of the dossiers the message moved."})


@bp.route("", methods=["POST"])
@roles_required(*SENDERS)
@bp.arguments(MessageArgs)
@bp.response(200, MessageResultSchema)
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
def send(args):
    """Deliver a message

    Delivered to every running dossier waiting for message `name` whose data hold the
    `correlation` values; each delivery is a journaled command. Instructeurs and administrateurs.
    """
    reached = services().engine.deliver_message(current_actor(), args["name"], args["correlation"], args["payload"])
    if not reached:
        raise NotFound(f"No running dossier matching the correlation waits for message {args['name']!r}",
                       code="event.no_receiver", params={"message": args["name"]})
    return {"reached": reached}
