"""Administration: users, their roles and EPCI scope; the e-mail outbox; incidents of the models."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import Conflict, Invalid, campaigns_api, roles

from .access import roles_required
from .engine_messages import describe, field_errors
from .services import services

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _form_values(form) -> dict:
    return {
        "login": form.get("login", "").strip(),
        "full_name": form.get("full_name", "").strip(),
        "email": form.get("email", "").strip(),
        "password": form.get("password", ""),
        "roles": [r for r in form.getlist("roles") if r in roles.ALL_ROLES],
        "epci": [e for e in form.getlist("epci") if e in campaigns_api.EPCI],
        "active": form.get("active") == "1",
    }


def _render(values: dict, errors: dict, creating: bool, status: int = 200):
    return render_template(
        "admin/user_form.html",
        values=values,
        errors=errors,
        creating=creating,
        all_roles=roles.ALL_ROLES,
        all_epci=campaigns_api.EPCI,
    ), status


@bp.route("/utilisateurs")
@roles_required(roles.ADMIN)
def users():
    return render_template("admin/users.html", users=services().accounts.list())


@bp.route("/utilisateurs/nouveau", methods=("GET", "POST"))
@roles_required(roles.ADMIN)
def create_user():
    if request.method == "GET":
        return _render({"roles": [], "epci": [], "active": True}, {}, True)
    values = _form_values(request.form)
    try:
        services().accounts.create(
            values["login"],
            values["password"],
            roles=values["roles"],
            epci=values["epci"],
            full_name=values["full_name"],
            email=values["email"],
        )
    except Invalid as err:
        return _render(values, field_errors(err), True, 400)
    except Conflict as err:  # the login is taken: said next to it, with what was typed kept
        return _render(values, {"login": [describe(err)]}, True, 409)
    flash(_("Utilisateur %(login)s créé.", login=values["login"]), "success")
    return redirect(url_for("admin.users"))


@bp.route("/utilisateurs/<login>", methods=("GET", "POST"))
@roles_required(roles.ADMIN)
def edit_user(login: str):
    account = services().accounts.get(login)
    if request.method == "GET":
        values = {
            "login": account.login,
            "full_name": account.full_name,
            "email": account.email,
            "roles": list(account.roles),
            "epci": list(account.epci),
            "active": account.active,
        }
        return _render(values, {}, False)
    values = _form_values(request.form)
    values["login"] = login
    try:
        services().accounts.update(
            login,
            roles=values["roles"],
            epci=values["epci"],
            full_name=values["full_name"],
            email=values["email"],
            active=values["active"],
            password=values["password"] or None,
        )
    except Invalid as err:
        return _render(values, field_errors(err), False, 400)
    flash(_("Utilisateur %(login)s modifié.", login=login), "success")
    return redirect(url_for("admin.users"))


@bp.route("/courriels")
@roles_required(roles.ADMIN)
def outbox():
    """The outbox, one page at a time, each message with its state; filtered by state."""
    state = request.args.get("etat") or None
    try:
        page = int(request.args.get("page", 1))
    except ValueError:
        page = 1
    svc = services()
    shown = svc.outbox.page(page, int(current_app.config["DSDT_OUTBOX_PER_PAGE"]), state)  # Invalid: 400
    return render_template("admin/outbox.html", outbox=shown, state=state,
                           smtp=svc.notifications.smtp)


@bp.route("/incidents")
@roles_required(roles.ADMIN, roles.PROCESS_OWNER)
def incidents():
    """Failures of model code per dossier: what failed, where, with which data; retry or close."""
    return render_template("admin/incidents.html", incidents=services().engine.incidents.list())


@bp.route("/incidents/<int:incident_id>/relancer", methods=("POST",))
@roles_required(roles.ADMIN, roles.PROCESS_OWNER)
def retry_incident(incident_id: int):
    if services().engine.incidents.retry(incident_id):
        flash(_("Le dossier a repris : l’incident est résolu."), "success")
    else:
        flash(_("Nouvel échec : l’incident reste ouvert avec l’erreur du nouvel essai."), "error")
    return redirect(url_for("admin.incidents"))


@bp.route("/incidents/<int:incident_id>/clore", methods=("POST",))
@roles_required(roles.ADMIN, roles.PROCESS_OWNER)
def close_incident(incident_id: int):
    services().engine.incidents.close(incident_id)
    flash(_("Incident clos."), "success")
    return redirect(url_for("admin.incidents"))
