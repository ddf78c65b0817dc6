"""Jury pages: the juries, their members' seats and sessions (administrators and regional
officers, over :class:`engine.JuryAdmin`), a session's impossibility (regional officers,
:class:`engine.JurySessions`) and its procès-verbal as PDF (the session's president, regional
officers, administrators; :func:`engine.jury_minutes.read_minutes`, laid out by WeasyPrint with a
fetcher that refuses every URL, as the receipts)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import JURY_CRITERIA as CRITERIA
from engine import Conflict, Forbidden, Invalid, JuryAdmin, JurySessions, read_minutes, roles
from engine.juries import MEMBER_KINDS

from .access import current_account, current_actor, roles_required
from .engine_messages import describe
from .services import services

bp = Blueprint("juries", __name__, url_prefix="/jurys")

#: who manages juries, seats and sessions
MANAGERS = (roles.ADMIN, roles.INSTRUCTEUR)


def _admin() -> JuryAdmin:
    return JuryAdmin(services().engine.db)


def _errors(err: Invalid) -> dict[str, list[str]]:
    """The error's message under each field it names (the form's top otherwise)."""
    message = describe(err) or _("Corrigez les champs signalés.")
    return {field: [message] for field in (err.errors or {"_": []})}


def _day(value: str | None, field: str, required: bool = True) -> date | None:
    value = (value or "").strip()
    if not value and not required:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{field}: a date YYYY-MM-DD", code="jury.bad_term", errors={field: ["date"]}) from None


def _page(code: str, errors: dict | None = None, values: dict | None = None, status: int = 200):
    jury, seats, sessions = _admin().jury(code)
    return render_template("juries/jury.html", jury=jury, seats=seats, sessions=sessions, kinds=MEMBER_KINDS,
                           errors=errors or {}, values=values or {},
                           can_declare=roles.INSTRUCTEUR in current_account().roles), status


@bp.route("/")
@roles_required(*MANAGERS)
def index():
    return render_template("juries/index.html", juries=_admin().juries())


@bp.route("/<code>")
@roles_required(*MANAGERS)
def jury(code: str):
    return _page(code)


@bp.route("/<code>/membres", methods=("POST",))
@roles_required(*MANAGERS)
def add_seat(code: str):
    form = request.form
    values = {key: form.get(key, "") for key in ("login", "full_name", "kind", "epci", "term_start", "term_end")}
    try:
        _admin().add_seat(code, login=values["login"], full_name=values["full_name"], kind=values["kind"],
                          epci=values["epci"], president=form.get("president") == "1",
                          term_start=_day(values["term_start"], "term_start"),
                          term_end=_day(values["term_end"], "term_end", required=False))
    except Invalid as err:
        return _page(code, _errors(err), values, 400)
    flash(_("Le membre %(login)s siège au jury.", login=values["login"].strip().lower()), "success")
    return redirect(url_for("juries.jury", code=code))


@bp.route("/<code>/membres/<int:seat_id>/fin", methods=("POST",))
@roles_required(*MANAGERS)
def end_term(code: str, seat_id: int):
    try:
        _admin().set_term_end(seat_id, _day(request.form.get("term_end"), "term_end", required=False))
    except Invalid as err:
        return _page(code, _errors(err), status=400)
    flash(_("Le mandat est modifié."), "success")
    return redirect(url_for("juries.jury", code=code))


@bp.route("/<code>/sessions/<campaign>", methods=("POST",))
@roles_required(*MANAGERS)
def set_session(code: str, campaign: str):
    raw = (request.form.get("quorum") or "").strip()
    try:
        quorum = int(raw) if raw.isdigit() and len(raw) < 4 else -1
        _admin().set_session(code, campaign, _day(request.form.get("day"), "day"), quorum)
    except Invalid as err:
        return _page(code, _errors(err), status=400)
    flash(_("La session est enregistrée."), "success")
    return redirect(url_for("juries.jury", code=code))


@bp.route("/<code>/sessions/<campaign>/impossibilite", methods=("POST",))
@roles_required(roles.INSTRUCTEUR)
def declare_impossibility(code: str, campaign: str):
    try:
        reached = JurySessions(services().engine).declare_impossibility(
            current_actor(), code, campaign, request.form.get("motif", ""))
    except (Invalid, Conflict) as err:
        return _page(code, _errors(err) if isinstance(err, Invalid) else {"_": [describe(err)]}, status=400)
    if reached:
        flash(_("Impossibilité enregistrée : %(n)s dossier(s) transmis au jury régional.", n=len(reached)), "success")
    else:
        flash(_("Impossibilité enregistrée : les dossiers qui atteindront cette session iront au jury régional."),
              "success")
    return redirect(url_for("juries.jury", code=code))


@bp.route("/<code>/sessions/<campaign>/reconvocation", methods=("POST",))
@roles_required(roles.INSTRUCTEUR)
def reconvene(code: str, campaign: str):
    """A regional officer convenes an impossible territorial session again."""
    try:
        JurySessions(services().engine).reconvene(current_actor(), code, campaign)
    except (Invalid, Conflict) as err:
        return _page(code, {"_": [describe(err)]}, status=400)
    flash(_("La session est de nouveau convoquée : les dossiers qui l’atteindront attendront son examen."),
          "success")
    return redirect(url_for("juries.jury", code=code))


@bp.route("/<code>/sessions/<campaign>/presences", methods=("GET", "POST"))
@roles_required(roles.PRESIDENT_JURY)
def attendance(code: str, campaign: str):
    """The session's president records who attended; below the quorum the session is impossible."""
    sessions = JurySessions(services().engine)
    session = sessions.session(code, campaign)
    if current_account().login != session.president:
        abort(403)
    errors: dict = {}
    if request.method == "POST":
        try:
            done = sessions.record_attendance(current_actor(), code, campaign, request.form.getlist("present"))
        except (Invalid, Conflict) as err:
            errors = {"present": [describe(err) or _("Corrigez les champs signalés.")]}
        else:
            if done.quorum_met:
                flash(_("Quorum atteint : %(n)s membre(s) présent(s).", n=len(done.present)), "success")
            else:
                flash(_("Quorum non atteint : %(n)s dossier(s) transmis au jury régional.", n=len(done.reached)),
                      "success")
            return redirect(url_for("juries.attendance", code=code, campaign=campaign))
    minutes = read_minutes(services().engine.db, code, campaign)
    return render_template("juries/attendance.html", session=session, campaign=campaign, minutes=minutes,
                           errors=errors), 400 if errors else 200


@bp.route("/<code>/sessions/<campaign>/proces-verbal/confirmation", methods=("POST",))
@roles_required(roles.PRESIDENT_JURY)
def confirm_minutes(code: str, campaign: str):
    """The session's president confirms the procès-verbal: its hash goes into the dossiers' journals."""
    try:
        digest = JurySessions(services().engine).confirm_minutes(current_actor(), code, campaign)
    except Forbidden:
        abort(403)
    except Conflict as err:
        flash(describe(err), "error")
    else:
        flash(_("Procès-verbal confirmé (empreinte %(h)s).", h=digest[:16]), "success")
    return redirect(url_for("juries.attendance", code=code, campaign=campaign))


@bp.route("/<code>/sessions/<campaign>/proces-verbal.pdf")
@roles_required(roles.PRESIDENT_JURY, *MANAGERS)
def minutes(code: str, campaign: str):
    """The procès-verbal: the session's president, regional officers and administrators."""
    found = read_minutes(services().engine.db, code, campaign)
    account = current_account()
    if not set(MANAGERS) & set(account.roles) and account.login != found.president:
        abort(403)
    from weasyprint import HTML  # imported on use, as the receipts

    html = render_template("juries/minutes.html", minutes=found, criteria=CRITERIA)
    name = f"proces-verbal-{code}-{campaign}.pdf"
    return Response(HTML(string=html, url_fetcher=_no_fetch).write_pdf(), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"the minutes fetch nothing ({url[:80]})")

