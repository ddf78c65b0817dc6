"""The home pages of the overseeing roles: administrators and process owners land here after login.

They hold no step of the process, so an inbox would be empty for them: their home shows their
own work instead (auditors land on the audit search, the other roles on their inbox or their
applications: :func:`webapp.auth.home`).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from engine import Lockouts, roles

from .access import roles_required
from .services import services

bp = Blueprint("home", __name__, url_prefix="/accueil")

#: open incidents listed on the process owners' home (all of them on the incidents page)
INCIDENTS_SHOWN = 10


@bp.route("/administration")
@roles_required(roles.ADMIN)
def admin():
    svc = services()
    active, total = svc.overview.accounts()
    return render_template(
        "admin/home_admin.html",
        active=active,
        total=total,
        lockouts=Lockouts(svc.accounts).recent(),
        outbox=svc.outbox.page(1, 1).counts,
        smtp=svc.notifications.smtp,
        incidents=svc.overview.incidents(),
    )


@bp.route("/processus")
@roles_required(roles.PROCESS_OWNER, roles.ADMIN)
def owner():
    svc = services()
    unresolved, total = svc.engine.incidents.unresolved(INCIDENTS_SHOWN)  # ten rows and a count, not all
    return render_template(
        "admin/home_owner.html",
        versions=svc.overview.versions(),
        incidents=unresolved,
        more_incidents=max(total - INCIDENTS_SHOWN, 0),
    )
