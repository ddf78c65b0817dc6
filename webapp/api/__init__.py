"""The REST API (flask-smorest + marshmallow) under ``/api``, for scripts.

- OpenAPI document: ``GET /api/openapi.json`` (public; no Swagger UI, which would need a CDN).
- Authentication: ``Authorization: Bearer <token>`` on every other call (:mod:`.auth`); tokens are
  made by ``dsdt token LOGIN``. Session cookies are ignored, so the API is exempt from CSRF.
- Roles and dossier scope: :mod:`webapp.access`, the same checks as the pages.
- Errors: JSON ``{"code", "message", "errors"}`` (:mod:`.errors`), never an HTML page.
"""

from __future__ import annotations

from flask import Flask, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException
from werkzeug.routing import PathConverter, RequestRedirect

from . import auth, conventions, dossiers, errors, messages, tasks
from .schemas import ErrorSchema

PREFIX = "/api/"

CONFIG = {
    "API_TITLE": "DSDT",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {
            "description": (
                "Appel à projets DSDT : corbeille de tâches, formulaires, commandes et dossiers. "
                "Authentification par jeton : `Authorization: Bearer <jeton>` (créé par `dsdt token LOGIN`). "
                "Les erreurs ont la forme {code, message, errors}. "
                "Une étape est désignée par sa référence `ref` telle que l'API la donne, barres obliques comprises "
                "(`/api/dossiers/12/tasks/cand_dossier.0/recevabilite.1/claim`) ; "
                "elles peuvent aussi être encodées (%2F)."
            )
        },
        "security": [{auth.SCHEME: []}],
    },
}


class TaskRefConverter(PathConverter):
    """A task reference: ``<step>.<n>`` segments joined by ``/`` (``cand_dossier.0/recevabilite.1``)."""

    regex = r"[^/]+\.\d+(?:/[^/]+\.\d+)*"


def _taskref_schema(converter) -> dict:
    return {"type": "string", "pattern": r"^[^/]+\.\d+(/[^/]+\.\d+)*$", "example": "cand_dossier.0/recevabilite.1"}


class DsdtApi(Api):
    """flask-smorest's Api, with our error body and no app-wide error handler (the pages keep theirs)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass  # each API blueprint registers its JSON handlers (errors.register)


def _json_routing_errors():
    """A 404/405 under /api/ matches no blueprint, so it would get the HTML page: answer JSON."""
    exc = request.routing_exception
    if exc is not None and request.path.startswith(PREFIX) and not isinstance(exc, RequestRedirect):
        if isinstance(exc, HTTPException):
            return errors.http_error(exc)
    return None


def init_app(app: Flask, csrf) -> Api:
    """Register the API on ``app``: OpenAPI document, blueprints, CSRF exemption, JSON errors."""
    for key, value in CONFIG.items():
        app.config.setdefault(key, value)
    app.url_map.converters["taskref"] = TaskRefConverter
    api = DsdtApi(app)
    api.register_converter(TaskRefConverter, _taskref_schema)
    api.spec.components.security_scheme(
        auth.SCHEME,
        {"type": "http", "scheme": "bearer", "description": "Jeton d'API créé par `dsdt token LOGIN`."},
    )
    for module in (tasks, dossiers, messages, conventions):
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)
    # First, before the CSRF check would turn a POST to an unknown /api/ URL into an HTML 400.
    app.before_request_funcs.setdefault(None, []).insert(0, _json_routing_errors)
    app.extensions["dsdt_api"] = api
    return api
