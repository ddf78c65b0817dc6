"""``/healthz`` (liveness) and ``/readyz`` (readiness) for a load balancer or an orchestrator.

No login, no session, no CSRF, JSON only. Liveness says the process answers; it never touches the
database, so an outage of the database does not get every web process restarted. Readiness says
whether this process can serve now: the database answers and its schema is the one this code
needs; a 503 (with ``Retry-After``) takes the process out of rotation until it can.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify

from engine import DATABASE_ERRORS, Unavailable, as_unavailable

from .services import services

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    try:
        services().engine.db.require_current()
    except Unavailable as err:
        return _not_ready(err.code, err)
    except DATABASE_ERRORS as err:
        unavailable = as_unavailable(err)
        if unavailable is None:
            raise
        return _not_ready(unavailable.code, err)
    return jsonify(status="ready", database="ok", schema="current")


def _not_ready(reason: str, err: BaseException):
    log.warning("not ready (%s): %s", reason, err)
    response = jsonify(status="unavailable", reason=reason, detail=str(err).splitlines()[0][:500])
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    return response


def register(app, csrf) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
