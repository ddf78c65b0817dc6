"""Engine and HTTP errors → clear French pages, mapped once (the API maps them again for JSON)."""

from __future__ import annotations

import logging

from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
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

from . import request_ids
from .engine_messages import describe

log = logging.getLogger(__name__)

#: engine error class → (HTTP status, title, what to do)
ENGINE_ERRORS = {
    NotFound: (404, _l("Introuvable"), _l("Ce que vous cherchez n’existe pas ou ne vous est pas accessible.")),
    Forbidden: (
        403,
        _l("Accès refusé"),
        _l(
            "Votre rôle ou votre périmètre ne permet pas cette action. "
            "Si vous pensez que c’est une erreur, contactez l’administrateur."
        ),
    ),
    Conflict: (
        409,
        _l("Le dossier a changé"),
        _l(
            "Quelqu’un a agi sur ce dossier entre-temps, ou une échéance "
            "est passée. Rechargez le dossier pour voir son étape actuelle."
        ),
    ),
    Invalid: (
        400,
        _l("Données invalides"),
        _l("Les informations envoyées ne sont pas valides : corrigez-les et recommencez."),
    ),
    Unavailable: (
        503,
        _l("Service momentanément indisponible"),
        _l("La base de données ne répond pas pour le moment ; rien n’a été enregistré. Réessayez dans quelques "
           "instants."),
    ),
    ScriptFailed: (
        500,
        _l("Erreur du modèle de processus"),
        # Said only when no incident was recorded (see engine_error): ask the person to report it.
        _l(
            "Une règle du processus a échoué. "
            "Signalez-le au responsable du processus en indiquant ce que vous faisiez."
        ),
    ),
}

HTTP_TITLES = {
    400: (_l("Requête invalide"), _l("La demande n’a pas pu être comprise. Revenez à la page précédente.")),
    401: (_l("Connexion requise"), _l("Connectez-vous pour accéder à cette page.")),
    403: (_l("Accès refusé"), _l("Cette page ne vous est pas accessible.")),
    404: (_l("Page introuvable"), _l("Cette page n’existe pas ou ne vous est pas accessible.")),
    405: (_l("Action non permise"), _l("Cette action n’est pas possible sur cette page.")),
    409: (_l("Conflit"), _l("Le dossier a changé entre-temps : rechargez-le.")),
    413: (_l("Envoi trop volumineux"), _l("Les fichiers envoyés sont trop gros : réduisez-les et recommencez.")),
    429: (_l("Trop de tentatives"), _l("Patientez quelques minutes avant de réessayer.")),
    500: (_l("Erreur interne"), _l("Une erreur inattendue s’est produite. Réessayez plus tard.")),
}


def _page(status: int, title, message, detail: str | None = None):
    return render_template(
        "errors/error.html", status=status, title=title, message=message, detail=detail, back=request.referrer,
        request_id=request_ids.current(),
    ), status


def log_failure(err: BaseException) -> None:
    """Every 500, with its traceback and the request id the person is shown (pages and API)."""
    log.error("500 on %s %s (request %s): %s", request.method, request.path, request_ids.current(), err,
              exc_info=err)


def engine_entry(err: EngineError, table: dict) -> tuple | None:
    """``table``'s entry (its HTTP status first) for the nearest class of ``err``, or None for a
    plain 500; every 500 is logged here, for the pages and the API alike."""
    entry = next((table[cls] for cls in type(err).__mro__ if cls in table), None)
    if entry is None or entry[0] >= 500:
        log_failure(err)
    return entry


def engine_error(err: EngineError):
    if isinstance(err, Unavailable):
        return unavailable(err)
    entry = engine_entry(err, ENGINE_ERRORS)
    if entry is None:
        return _page(500, *HTTP_TITLES[500])
    status, title, message = entry
    if isinstance(err, ScriptFailed) and err.incident_id is not None:
        # The engine recorded the failure where process owners see it: give its number.
        message = _l("Une règle du processus a échoué. Le responsable du processus en est informé "
                     "(incident n° %(n)s) ; réessayez une fois le modèle corrigé.", n=err.incident_id)
    # The engine's message is English, for logs: the person reads its code, translated.
    return _page(status, title, message, describe(err) if status < 500 else None)


def unavailable(err: Unavailable):
    """503 with ``Retry-After``: the database is down or restarting, or its schema not current.
    Logged (without a traceback page): an operator should see an outage."""
    log.warning("503 on %s %s (request %s): %s", request.method, request.path, request_ids.current(), err)
    status, title, message = ENGINE_ERRORS[Unavailable]
    page, _ = _page(status, title, message)
    return page, status, {"Retry-After": str(err.retry_after)}


def database_error(err: Exception):
    """A database failure outside a command (a page's reads): 503 when transient, else a 500."""
    found = as_unavailable(err)
    if found is not None:
        return unavailable(found)
    if current_app.testing:
        raise err
    return unexpected_error(err)


def http_error(err: HTTPException):
    title, message = HTTP_TITLES.get(err.code or 500, HTTP_TITLES[500])
    if (err.code or 500) >= 500:
        log_failure(getattr(err, "original_exception", None) or err)
    return _page(err.code or 500, title, message)


def csrf_error(err: CSRFError):
    return _page(
        400,
        _l("Formulaire expiré"),
        _l("Le formulaire a expiré ou n’a pas été envoyé depuis cette application. Rechargez la page et recommencez."),
    )


def unexpected_error(err: Exception):
    # Flask does not log what a handler catches: logged here. The person sees a plain page with
    # the request id to quote, never a stack trace.
    log_failure(err)
    return _page(500, *HTTP_TITLES[500])


def register(app) -> None:
    app.register_error_handler(EngineError, engine_error)
    for cls in DATABASE_ERRORS:
        app.register_error_handler(cls, database_error)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    if not app.testing:
        app.register_error_handler(Exception, unexpected_error)
