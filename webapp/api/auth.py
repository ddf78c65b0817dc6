"""Bearer-token authentication for the API.

Scripts send ``Authorization: Bearer <token>`` (a token made by ``dsdt token LOGIN``; only its
hash is stored). The token's account becomes ``g.account`` for the request, so the roles and the
dossier scope are then checked by :mod:`webapp.access`, exactly as for the pages.

A session cookie never authenticates an API call: ``g.account`` set from the cookie is dropped
first. That is why the API blueprints can be exempt from CSRF protection: a browser cannot be
tricked into sending a bearer token.
"""

from __future__ import annotations

import functools

from flask import g, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from engine import LoginFailed

from ..access import load_dossier_or_404
from ..services import services

SCHEME = "bearerAuth"  # name of the security scheme in the OpenAPI document
REALM = "dsdt"


class TokenRequired(Unauthorized):
    """401 carrying ``WWW-Authenticate: Bearer`` (RFC 6750)."""

    def __init__(self, message: str, error: str | None = None):
        challenge = WWWAuthenticate("bearer", {"realm": REALM, **({"error": error} if error else {})})
        super().__init__(message, www_authenticate=challenge)
        self.data = {"message": message}


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate() -> None:
    """Before every API request: the token's account on ``g``, or 401."""
    g.account = None  # never the session's account
    token = bearer_token()
    if token is None:
        raise TokenRequired(
            "Jeton d'API requis : envoyez l'en-tête « Authorization: Bearer <jeton> » (créez-le avec `dsdt token`)."
        )
    try:
        g.account = services().accounts.by_token(token)
    except LoginFailed as err:
        raise TokenRequired(f"{err.message} Demandez un nouveau jeton (`dsdt token`).", "invalid_token") from err


def dossier_in_scope(view):
    """Resolve ``dossier_id`` with :func:`~webapp.access.load_dossier_or_404` before anything else
    (the request body included), and hand the view the ``dossier``."""

    @functools.wraps(view)
    def wrapped(*args, dossier_id: int, **kwargs):
        return view(*args, dossier=load_dossier_or_404(dossier_id), **kwargs)

    return wrapped
