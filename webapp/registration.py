"""Self-service accounts: an association registers a porteur, verifies its address, a colleague
joins by an invitation, and anyone resets a forgotten password by e-mail (the engine side is
:mod:`engine.registration` and :mod:`engine.organisations`)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import (
    Application,
    Conflict,
    Invalid,
    LinkExpired,
    LinkInvalid,
    Organisations,
    Registrations,
    account_policy,
)

from .access import current_account
from .engine_messages import describe, field_errors
from .services import services

bp = Blueprint("registration", __name__)

FIELDS = ("association", "identifier", "full_name", "email", "login")


def _registrations() -> Registrations:
    return Registrations(services().accounts, current_app.secret_key)


def _link(endpoint: str):
    return lambda token: url_for(endpoint, token=token, _external=True)


def _sent(message: str):
    """The one answer to every request for a link, whether the address has an account or not."""
    flash(message, "info")
    return redirect(url_for("registration.sent"))


def _link_error(err: Invalid, again: str):
    """A page saying why a link cannot be used, and where to ask for a new one."""
    return render_template("auth/link_error.html", message=describe(err), again=again), 400


def _new_password(errors: dict[str, list[str]]) -> str | None:
    """The password typed twice, or None after noting in ``errors`` that the two copies differ."""
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        errors["password_again"] = [_("Les deux mots de passe diffèrent.")]
        return None
    return password


def _login_taken(err: Conflict) -> dict[str, list[str]]:
    return {"login": [describe(err) or _("Cet identifiant existe déjà.")]}


def _ask_for_link(send, link_endpoint: str, message: str, title: str, endpoint: str):
    """A form asking for an address, then the same answer whether or not it has an account."""
    if request.method == "POST":
        send(request.form.get("email", ""), _link(link_endpoint))
        return _sent(message)
    return render_template("auth/email_form.html", title=title, action=url_for(endpoint))


@bp.route("/inscription", methods=("GET", "POST"))
def register():
    if current_account() is not None:
        return redirect(url_for("index"))
    values = {name: request.form.get(name, "").strip() for name in FIELDS}
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and (password := _new_password(errors)) is not None:
        try:
            _registrations().register(Application(**values, password=password), _link("registration.verify"))
        except Invalid as err:
            errors = field_errors(err)
        except Conflict as err:  # the login is taken
            errors = _login_taken(err)
        else:
            return _sent(_("Un courriel de confirmation a été envoyé à %(email)s : ouvrez le lien qu’il "
                           "contient dans les %(hours)s heures pour activer votre compte.", email=values["email"],
                           hours=account_policy()["verify_hours"]))
    return render_template("auth/register.html", values=values, errors=errors), 400 if errors else 200


@bp.route("/inscription/envoye", methods=("GET",))
def sent():
    return render_template("auth/sent.html")


@bp.route("/inscription/verifier/<token>", methods=("GET",))
def verify(token: str):
    try:
        _registrations().verify(token)
    except (LinkExpired, LinkInvalid) as err:
        return _link_error(err, url_for("registration.resend"))
    flash(_("Votre adresse est vérifiée et votre compte actif : connectez-vous."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/inscription/renvoyer", methods=("GET", "POST"))
def resend():
    return _ask_for_link(_registrations().resend, "registration.verify",
                         _("Si un compte attend la vérification de cette adresse, un nouveau lien vient d’y être "
                           "envoyé."),
                         _("Recevoir un nouveau lien de confirmation"), "registration.resend")


@bp.route("/mot-de-passe-oublie", methods=("GET", "POST"))
def forgot():
    return _ask_for_link(_registrations().request_reset, "registration.reset",
                         _("Si un compte utilise cette adresse, un lien pour choisir un nouveau mot de passe vient "
                           "d’y être envoyé ; il vaut %(hours)s heure(s).", hours=account_policy()["reset_hours"]),
                         _("Mot de passe oublié"), "registration.forgot")


@bp.route("/mot-de-passe/<token>", methods=("GET", "POST"))
def reset(token: str):
    registrations = _registrations()
    try:
        login = registrations.check_reset(token)
    except (LinkExpired, LinkInvalid) as err:
        return _link_error(err, url_for("registration.forgot"))
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and (password := _new_password(errors)) is not None:
        try:
            registrations.reset_password(token, password)
        except (LinkExpired, LinkInvalid) as err:
            return _link_error(err, url_for("registration.forgot"))
        except Invalid as err:
            errors = field_errors(err)
        else:
            flash(_("Votre mot de passe est changé, et vos autres sessions sont fermées : connectez-vous."), "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", login=login, errors=errors), 400 if errors else 200


@bp.route("/association/rejoindre/<token>", methods=("GET", "POST"))
def join(token: str):
    """A colleague invited by a member of an association creates their account in it."""
    if current_account() is not None:
        return redirect(url_for("index"))
    organisations = Organisations(services().accounts, current_app.secret_key)
    try:
        info, email = organisations.invitation(token)
    except (LinkExpired, LinkInvalid) as err:
        return _link_error(err, url_for("auth.login"))
    values = {name: request.form.get(name, "").strip() for name in ("full_name", "login")}
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and (password := _new_password(errors)) is not None:
        try:
            organisations.join(token, values["full_name"], values["login"], password)
        except (LinkExpired, LinkInvalid) as err:
            return _link_error(err, url_for("auth.login"))
        except Invalid as err:
            errors = field_errors(err)
        except Conflict as err:
            errors = _login_taken(err)
        else:
            flash(_("Votre compte est créé dans l’association : connectez-vous."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/join.html", info=info, email=email, values=values, errors=errors), \
        400 if errors else 200
