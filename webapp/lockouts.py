"""Administration of throttled logins: the accounts with recent failed logins, and "débloquer"
(the engine side, and what it keeps undisclosed, is :mod:`engine.lockouts`)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from engine import Lockouts, roles

from .access import roles_required
from .services import services

bp = Blueprint("lockouts", __name__, url_prefix="/admin")


@bp.route("/connexions")
@roles_required(roles.ADMIN)
def index():
    return render_template("admin/lockouts.html", lockouts=Lockouts(services().accounts).recent())


@bp.route("/connexions/<login>/debloquer", methods=("POST",))
@roles_required(roles.ADMIN)
def unlock(login: str):
    Lockouts(services().accounts).unlock(login)
    flash(_("Les échecs de connexion de %(login)s sont effacés : la personne peut réessayer.", login=login),
          "success")
    return redirect(url_for("lockouts.index"))
