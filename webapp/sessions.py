"""Web sessions that end server-side.

The session is Flask's signed cookie; it holds the login, the account's ``session_version`` at
login, and two instants of the engine's clock: when the person logged in and when they were last
seen. On every request (:func:`load_user`) the cookie is refused when the account's version has
moved on (logout, new password, deactivation, change of roles or scope all bump it: every cookie
issued before dies, wherever it was copied), when it has been idle longer than
``DSDT_SESSION_IDLE_MINUTES`` or when it is older than ``DSDT_SESSION_MAX_HOURS``.

API calls never use the cookie (bearer tokens, :mod:`webapp.api.auth`): none of this applies to them.
"""

from __future__ import annotations

from flask import current_app, flash, g, request, session
from flask_babel import gettext as _

from engine import Account

from .services import services

KEYS = ("login", "session_version", "since", "seen")
#: seconds between two refreshes of ``seen``: the idle lifetime counts in minutes, and a cookie
#: rewritten on every request would be sent back with every response
SEEN_RESOLUTION = 60


def _now() -> float:
    return services().accounts.clock.now().timestamp()


def _clear() -> None:
    """Forget the person, keep the language they chose."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def start(account: Account) -> None:
    """Open a session for ``account`` (after a good password): a fresh cookie, no old content."""
    _clear()
    now = _now()
    session.update(login=account.login, session_version=account.session_version, since=now, seen=now)
    session.permanent = False


def end() -> None:
    """Log out: this cookie and every other copy of the person's sessions stop working."""
    login = session.get("login")
    if login and services().accounts.find(login) is not None:
        services().accounts.end_sessions(login)
    _clear()


def _expired(now: float) -> bool:
    config = current_app.config
    idle = float(config["DSDT_SESSION_IDLE_MINUTES"]) * 60
    longest = float(config["DSDT_SESSION_MAX_HOURS"]) * 3600
    since, seen = session.get("since"), session.get("seen")
    if not isinstance(since, int | float) or not isinstance(seen, int | float):
        return True  # a cookie from before these checks, or tampered with: not trusted
    return now - seen > idle or now - since > longest


def load_user() -> None:
    """Put the logged-in account (or None) on ``g``; drop a session that is no longer valid
    (a before-request hook)."""
    g.account = None
    login = session.get("login")
    if not login or request.endpoint == "static":  # a stylesheet needs no account lookup
        return
    account = services().accounts.find(login)
    if account is None or not account.active or session.get("session_version") != account.session_version:
        _clear()
        return
    now = _now()
    if _expired(now):
        _clear()
        flash(_("Votre session a expiré : reconnectez-vous."), "info")
        return
    if now - session["seen"] >= SEEN_RESOLUTION:  # not a new cookie on every response
        session["seen"] = now
    g.account = account
