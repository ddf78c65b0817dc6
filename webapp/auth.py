"""Login, logout and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine import AccountLocked, LoginFailed, roles

from . import sessions
from .access import current_account
from .filters import when
from .services import services

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (a ``next`` to go back to), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home():
    account = current_account()
    if account is None:
        return redirect(url_for("auth.login"))
    held = set(account.roles)
    # Overseeing roles hold no step of the process: their inbox would be empty, their home is their work.
    if not held & set(roles.LANE_ROLES.values()):
        if roles.ADMIN in held:
            return redirect(url_for("home.admin"))
        if roles.PROCESS_OWNER in held:
            return redirect(url_for("home.owner"))
    if roles.AUDITOR in held and held <= {roles.AUDITOR, roles.ADMIN, roles.PROCESS_OWNER}:
        return redirect(url_for("audit.search"))  # no step of the process is theirs: their work is the audit
    if held - {roles.PORTEUR}:
        return redirect(url_for("inbox.index"))
    return redirect(url_for("dossiers.mine"))


@bp.route("/connexion", methods=("GET", "POST"))
def login():
    error, status = None, 200
    login_value = ""
    if request.method == "POST":
        login_value = request.form.get("login", "").strip()
        password = request.form.get("password", "")
        try:
            account = services().accounts.authenticate(login_value, password, client=request.remote_addr or "")
        except AccountLocked as err:
            # The same words whether the login exists or not: only this client is held back.
            error, status = (
                _(
                    "Trop d’essais infructueux depuis ce poste : réessayez après %(until)s.",
                    until=when(err.until),
                ),
                429,
            )
        except LoginFailed:
            error, status = _("Identifiant ou mot de passe incorrect."), 401
        else:
            sessions.start(account)
            return redirect(safe_next(request.args.get("next")) or url_for("index"))
    return render_template("auth/login.html", error=error, login_value=login_value), status


@bp.route("/deconnexion", methods=("POST",))
def logout():
    sessions.end()
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/langue", methods=("POST",))
def language():
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("index"))
