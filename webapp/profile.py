"""The profile page (``/profil``): who I am, and for staff the choice of a daily digest of tasks."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import roles

from .access import STAFF, current_actor, login_required
from .services import services

bp = Blueprint("profile", __name__, url_prefix="/profil")

#: the roles that are given tasks, so may choose how they hear of them (an auditor reads, is given none)
TASK_ROLES = STAFF - roles.READ_ONLY


@bp.route("/", methods=("GET", "POST"))
@login_required
def show():
    actor = current_actor()
    svc = services()
    staff = bool(actor.roles & TASK_ROLES)
    if request.method == "POST":
        if not staff:
            abort(403)  # the digest is a choice about staff tasks; other roles have nothing to choose
        daily = request.form.get("digest") == "quotidien"
        svc.digests.set_preference(actor.login, daily)
        flash(_("Vous recevrez un résumé quotidien de vos tâches.") if daily
              else _("Vous recevrez un courriel pour chaque nouvelle tâche."), "success")
        return redirect(url_for("profile.show"))
    return render_template("auth/profile.html", account=g.account, staff=staff,
                           daily=staff and svc.digests.wants(actor.login))
