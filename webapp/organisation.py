"""An association's members: the page of its members and invitations by e-mail (joining by the
invitation link is public: :func:`webapp.registration.join`; the engine side is
:mod:`engine.organisations`)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import Invalid, Organisations, roles

from .access import current_actor, roles_required
from .engine_messages import field_errors
from .services import services

bp = Blueprint("organisation", __name__, url_prefix="/association")


def _organisations() -> Organisations:
    return Organisations(services().accounts, current_app.secret_key)


@bp.route("/", methods=("GET", "POST"))
@roles_required(roles.PORTEUR)
def members():
    organisations = _organisations()
    info = organisations.of(current_actor().login)
    if info is None:
        abort(404)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        try:
            organisations.invite(current_actor().login, email,
                                 lambda token: url_for("registration.join", token=token, _external=True))
        except Invalid as err:
            errors = field_errors(err)
        else:
            flash(_("Invitation envoyée à %(email)s.", email=email), "success")
            return redirect(url_for("organisation.members"))
    return render_template("auth/organisation.html", info=info, errors=errors), 400 if errors else 200
