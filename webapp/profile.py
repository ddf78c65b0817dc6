"""The profile page (``/profil``): who I am, and for staff the choice of a daily digest of tasks."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .access import STAFF, current_actor, login_required
from .services import services

bp = Blueprint("profile", __name__, url_prefix="/profil")


@bp.route("/", methods=("GET", "POST"))
@login_required
def show():
    actor = current_actor()
    svc = services()
    staff = bool(actor.roles & STAFF)
    if request.method == "POST":
        if not staff:
            flash(_("Le résumé quotidien concerne les tâches du personnel : votre compte n’en a pas."), "error")
            return redirect(url_for("profile.show"))
        daily = request.form.get("digest") == "quotidien"
        svc.digests.set_preference(actor.login, daily)
        flash(_("Vous recevrez un résumé quotidien de vos tâches.") if daily
              else _("Vous recevrez un courriel pour chaque nouvelle tâche."), "success")
        return redirect(url_for("profile.show"))
    return render_template("auth/profile.html", account=g.account, staff=staff,
                           daily=staff and svc.digests.wants(actor.login))
