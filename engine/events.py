"""Messages and signals sent to dossiers from outside: a person, the API, the command line.

A message goes to the running dossiers that wait for it (a catch event, a boundary event, a branch
of an event-based gateway) and whose waiting event's data holds every correlation key with the
value given: ``{"dossier_ref": "DSDT-2014-00012"}`` reaches one dossier, ``{"epci": "CAB"}`` every
dossier of that EPCI waiting for it. A message needs at least one correlation key; a signal has
none and reaches every dossier waiting for it. Each dossier reached gets its own journaled command
(``message`` or ``signal``), replayed like any other.

Finding the dossiers loads every running one (cache, stored state or journal), except when the
correlation names ``dossier_ref``, which the instance table indexes: prefer it for one dossier.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, select

from .commands import Actor
from .errors import Forbidden, Invalid
from .limits import MAX_SHORT_TEXT, check_text
from .persistence.models import Instance
from .roles import ADMIN, INSTRUCTEUR
from .scripts.restricted import ScriptDataError, check_json

#: Who may send messages and signals: they move dossiers on, as the Région's staff does.
SENDER_ROLES = frozenset({INSTRUCTEUR, ADMIN})
#: Largest payload, as JSON: it is journaled with every dossier it reaches.
MAX_PAYLOAD_BYTES = 64 * 1024
#: Most correlation keys a message may carry.
MAX_CORRELATION_KEYS = 16


def check_sender(actor: Actor) -> None:
    if not actor.roles & SENDER_ROLES:
        raise Forbidden("Only an instructeur or an administrateur can send messages and signals to dossiers",
                        code="event.forbidden")


def check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise Invalid(f"Give the {kind}'s name, as the BPMN model declares it", code="event.name_required",
                      errors={"name": ["required"]})
    return check_text("name", name.strip(), MAX_SHORT_TEXT)


def check_correlation(correlation) -> dict:
    """The correlation keys: at least one, data key → JSON scalar."""
    if not isinstance(correlation, dict) or not correlation:
        raise Invalid("A message needs at least one correlation key (for instance dossier_ref=...): without one "
                      "it would reach every waiting dossier; send a signal for that", code="event.correlation_required",
                      errors={"correlation": ["required"]})
    if len(correlation) > MAX_CORRELATION_KEYS:
        raise Invalid(f"At most {MAX_CORRELATION_KEYS} correlation keys", code="event.invalid",
                      params={"detail": "correlation"}, errors={"correlation": ["too many keys"]})
    for key, value in correlation.items():
        check_text("correlation", str(key), MAX_SHORT_TEXT)
        if not isinstance(key, str) or not key or not (value is None or isinstance(value, str | int | float | bool)):
            raise Invalid(f"Correlation key {key!r}: give a data name and a plain value (text, number, true/false)",
                          code="event.invalid", params={"detail": f"correlation {key}"},
                          errors={"correlation": [f"{key}: plain value expected"]})
    _check_data("correlation", correlation)
    return dict(correlation)


def check_payload(payload) -> dict:
    """The payload: a JSON object of at most :data:`MAX_PAYLOAD_BYTES`."""
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise Invalid("The payload must be a JSON object", code="event.invalid", params={"detail": "payload"},
                      errors={"payload": ["object expected"]})
    _check_data("payload", payload)
    size = len(json.dumps(payload, ensure_ascii=False).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise Invalid(f"The payload is {size} bytes as JSON; the limit is {MAX_PAYLOAD_BYTES}",
                      code="event.invalid", params={"detail": "payload"}, errors={"payload": ["too large"]})
    return payload


def _check_data(field: str, value) -> None:
    try:
        check_json(value, field)
    except ScriptDataError as err:
        raise Invalid(str(err), code="event.invalid", params={"detail": field}, errors={field: [str(err)]}) from err


def _reference_field(connection: Connection, deployments) -> str | None:
    """The data field holding the dossier's reference (the instance's ``ref``) in the start data of
    every running dossier's model (their contracts' ``start_data.reference``), if they all agree."""
    running = select(Instance.deployment_id).where(Instance.status == "running").distinct()
    names = {deployments.models(connection, deployment_id).contract.start_fields.get("reference")
             for deployment_id in connection.execute(running).scalars()}
    return names.pop() if len(names) == 1 else None


def running_instances(connection: Connection, correlation: dict | None = None, deployments=None) -> list[int]:
    """Ids of the running dossiers a message with ``correlation`` may reach (all, for a signal).

    A correlation on the field the models' contract fills with the dossier reference (``deployments``:
    the engine's store, to read it) is looked up by the instance's indexed ``ref``.
    """
    query = select(Instance.id).where(Instance.status == "running").order_by(Instance.id)
    field = _reference_field(connection, deployments) if correlation and deployments is not None else None
    ref = correlation.get(field) if field else None
    if isinstance(ref, str):
        query = query.where(Instance.ref == ref)
    return list(connection.execute(query).scalars())
