"""Engine and HTTP errors → JSON bodies for the API, mapped once (the pages map them to HTML in
``webapp.errors``).

Every error answer has the shape ``{"code": "...", "message": "...", "errors": {path: [messages]}}``:
``code`` is stable and meant for scripts, ``message`` says what to do, ``errors`` is only present
for invalid input and maps a dotted field path (``partenaires.0.nom``) to its messages.
An engine error adds ``reason``, its own stable code (``dossier.changed``), and ``params``, the
values its message names; ``message`` is then the translation of ``reason``. A 500 adds
``request_id``, to quote when reporting it (also in the ``X-Request-ID`` header of every answer).
"""

from __future__ import annotations

import logging

from flask import current_app, jsonify
from werkzeug.exceptions import HTTPException

from engine import (
    DATABASE_ERRORS,
    Conflict,
    EngineError,
    Forbidden,
    Invalid,
    NotFound,
    ScriptFailed,
    Unavailable,
    as_unavailable,
)

from .. import request_ids
from ..engine_messages import describe, field_errors
from ..errors import engine_entry, log_failure

log = logging.getLogger(__name__)

#: engine error class → (HTTP status, code)
ENGINE_ERRORS: dict[type[EngineError], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    Forbidden: (403, "forbidden"),
    Conflict: (409, "conflict"),
    Invalid: (422, "invalid"),
    ScriptFailed: (500, "script_failed"),
    Unavailable: (503, "unavailable"),
}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

HTTP_MESSAGES = {
    401: "Authentification requise : envoyez l'en-tête « Authorization: Bearer <jeton> » (`dsdt token`).",
    403: "Votre rôle ou votre périmètre ne permet pas cette action.",
    404: "Cette ressource n'existe pas ou ne vous est pas accessible.",
    405: "Méthode HTTP non permise sur cette adresse : voir /api/openapi.json.",
    422: "Les données envoyées ne sont pas valides : corrigez les champs indiqués dans « errors ».",
    500: "Erreur interne : réessayez plus tard.",
    503: "Service momentanément indisponible : rien n'a été enregistré, réessayez après le délai de « Retry-After ».",
}


def body(status: int, code: str, message: str, errors: dict | None = None, **extra):
    payload: dict = {"code": code, "message": message, **extra}
    if errors:
        payload["errors"] = errors
    if status >= 500:
        payload["request_id"] = request_ids.current()
    response = jsonify(payload)
    response.status_code = status
    return response


def flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow/webargs nested messages → ``{"dotted.path": [messages]}`` (``_schema`` → the parent)."""
    if isinstance(messages, dict):
        found: dict[str, list[str]] = {}
        for key, value in messages.items():
            key = "" if key == "_schema" else str(key)
            path = f"{prefix}.{key}" if prefix and key else prefix or key
            for name, texts in flatten(value, path).items():
                found.setdefault(name, []).extend(texts)
        return found
    if isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        return {prefix: [str(m) for m in messages]}
    return {prefix: [str(messages)]}


def engine_error(err: EngineError):
    if isinstance(err, Unavailable):
        return unavailable(err)
    entry = engine_entry(err, ENGINE_ERRORS)
    if entry is None:
        return body(500, "internal_error", HTTP_MESSAGES[500])
    status, code = entry
    if status == 500:
        return body(status, code, "Une règle du processus a échoué ; le responsable du processus est informé.",
                    reason=err.code)
    errors = field_errors(err) if isinstance(err, Invalid) else None
    message = describe(err) or HTTP_MESSAGES.get(status, "")
    return body(status, code, message, errors, reason=err.code, params=_plain(err.params))


def unavailable(err: Unavailable):
    """503 with ``Retry-After`` (the database is down or restarting): nothing was changed."""
    log.warning("503 on the API: %s", err)
    response = body(503, "unavailable", HTTP_MESSAGES[503], reason=err.code)
    response.headers["Retry-After"] = str(err.retry_after)
    return response


def database_error(err: Exception):
    """A database failure outside a command (reads): 503 when transient, else a 500."""
    found = as_unavailable(err)
    if found is not None:
        return unavailable(found)
    return unexpected_error(err)


def _plain(params: dict) -> dict:
    """``params`` as JSON can carry them (instants as ISO 8601 text)."""
    return {name: value.isoformat() if hasattr(value, "isoformat") else value for name, value in params.items()}


def http_error(err: HTTPException):
    status = err.code or 500
    data = getattr(err, "data", None) or {}  # webargs' abort() puts its details there
    messages = data.get("errors") or data.get("messages")
    errors = None
    if messages:
        # webargs keys its messages by location first ({"json": {...}}): the location is dropped.
        errors = {}
        for location_messages in (messages.values() if isinstance(messages, dict) else [messages]):
            for path, texts in flatten(location_messages).items():
                errors.setdefault(path, []).extend(texts)
    message = data.get("message") or HTTP_MESSAGES.get(status) or err.description or ""
    if status >= 500:
        log_failure(getattr(err, "original_exception", None) or err)
    response = body(status, HTTP_CODES.get(status, (err.name or "error").lower().replace(" ", "_")), message, errors)
    for name, value in err.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def unexpected_error(err: Exception):
    if current_app.testing:
        raise err  # tests see the real exception, as on the pages
    log_failure(err)
    return body(500, "internal_error", HTTP_MESSAGES[500])


def register(blueprint) -> None:
    """JSON error handlers on an API blueprint (they take precedence over the app's HTML pages)."""
    blueprint.register_error_handler(EngineError, engine_error)
    for cls in DATABASE_ERRORS:
        blueprint.register_error_handler(cls, database_error)
    blueprint.register_error_handler(HTTPException, http_error)
    blueprint.register_error_handler(Exception, unexpected_error)
