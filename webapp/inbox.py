"""The staff inbox: tasks assigned to me and open to my roles; claim, unclaim, delegate; notifications."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import Actor, Forbidden, InboxFilter, Invalid, inbox_counts, roles

from .access import STAFF, can_do, current_account, current_actor, load_dossier_or_404, login_required, roles_required
from .auth import safe_next
from .services import services

#: a task due within this time is marked "échéance proche" in the inbox
DUE_SOON = timedelta(days=3)

bp = Blueprint("inbox", __name__, url_prefix="/taches")
PARIS = ZoneInfo("Europe/Paris")


def end_of_day(day: date) -> datetime:
    """The last instant of ``day`` in Europe/Paris: "due before" a day includes that whole day."""
    return datetime.combine(day, time(23, 59, 59), PARIS)


def _filter_from(args, per_page: int) -> InboxFilter:
    due_before = None
    raw = args.get("echeance")
    if raw:
        try:
            due_before = end_of_day(datetime.strptime(raw, "%Y-%m-%d").date())
        except ValueError:
            due_before = None
    try:
        page = max(int(args.get("page", 1)), 1)
    except ValueError:
        page = 1
    return InboxFilter(
        step=args.get("etape") or None,
        epci=args.get("epci") or None,
        campaign=args.get("campagne") or None,
        due_before=due_before,
        mine_only=args.get("moi") == "1",
        page=page,
        per_page=per_page,
    )


@bp.route("/")
@roles_required(*STAFF)
def index():
    svc = services()
    actor = current_actor()
    per_page = int(current_app.config["DSDT_INBOX_PER_PAGE"])
    flt = _filter_from(request.args, per_page)
    rows, total = svc.engine.open_tasks(actor, flt)
    with svc.engine.session() as session:
        mine, everything = inbox_counts(session, actor)  # both header counts in one pass
    now = svc.engine.now()
    deployment = svc.queries.current_deployment_id()
    steps = sorted(svc.queries.steps(deployment).values(), key=lambda s: s.name) if deployment else []
    steps = [step for step in steps if step.role in actor.roles]
    campaigns = svc.queries.campaigns()
    epcis = sorted({(code, info["nom"]) for c in campaigns for code, info in c.data.get("epci", {}).items()})
    if not actor.roles & roles.REGIONAL_ROLES:
        epcis = [(code, name) for code, name in epcis if code in actor.epci]
    pages = max((total + per_page - 1) // per_page, 1)
    colleagues = _colleague_finder(actor)
    items = [
        {
            "row": row,
            "overdue": row.due_at is not None and row.due_at < now,
            "due_soon": row.due_at is not None and now <= row.due_at < now + DUE_SOON,
            "mine": row.claimed_by == actor.login or row.assignee == actor.login,
            "can_claim": row.assignee is None and row.claimed_by is None,
            "can_unclaim": row.claimed_by == actor.login,
            "colleagues": colleagues(row.role, row.epci) if row.assignee is None else [],
        }
        for row in rows
    ]
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "inbox/index.html",
        items=items,
        total=total,
        mine=mine,
        everything=everything,
        flt=flt,
        steps=steps,
        campaigns=campaigns,
        epcis=epcis,
        page=flt.page,
        pages=pages,
        args=args,
    )


def _colleague_finder(actor: Actor):
    """``(role, epci) -> logins`` of the active people holding ``role`` (in the dossier's EPCI for a
    local role), not me. The accounts are read once per page, not once per row."""
    accounts = None
    found: dict[tuple[str, str | None], list[str]] = {}

    def colleagues(role: str, epci: str | None) -> list[str]:
        nonlocal accounts
        key = (role, epci)
        if key not in found:
            if accounts is None:
                accounts = [account for account in services().accounts.list() if account.active]
            local = role not in roles.REGIONAL_ROLES
            found[key] = [
                account.login
                for account in accounts
                if role in account.roles and account.login != actor.login and (not local or epci in account.epci)
            ]
        return found[key]

    return colleagues


def _back():
    return redirect(safe_next(request.form.get("next")) or url_for("inbox.index"))


@bp.route("/<int:instance_id>/prendre/<path:task_ref>", methods=("POST",))
@roles_required(*STAFF)
def claim(instance_id: int, task_ref: str):
    load_dossier_or_404(instance_id)
    services().engine.claim(current_actor(), instance_id, task_ref)
    flash(_("Étape prise en charge : elle n’apparaît plus dans la corbeille de vos collègues."), "success")
    return _back()


@bp.route("/<int:instance_id>/liberer/<path:task_ref>", methods=("POST",))
@roles_required(*STAFF)
def unclaim(instance_id: int, task_ref: str):
    load_dossier_or_404(instance_id)
    services().engine.unclaim(current_actor(), instance_id, task_ref)
    flash(_("Étape remise à disposition de vos collègues."), "success")
    return _back()


@bp.route("/<int:instance_id>/deleguer/<path:task_ref>", methods=("POST",))
@roles_required(*STAFF)
def delegate(instance_id: int, task_ref: str):
    dossier = load_dossier_or_404(instance_id)
    actor = current_actor()
    login = request.form.get("collegue", "").strip()
    colleague = services().accounts.find(login) if login else None
    if colleague is None or not colleague.active:
        raise Invalid(_("Choisissez un collègue dans la liste."))
    step = next((s for s in dossier.open_steps if s.task_ref == task_ref), None)
    if step is None or not can_do(actor, dossier, step.role, step.assignee, step.claimed_by):
        raise Forbidden(_("Vous ne pouvez pas déléguer une étape qui ne vous est pas ouverte."))
    services().engine.delegate(actor, instance_id, task_ref, colleague.actor)
    flash(_("Étape déléguée à %(login)s.", login=colleague.login), "success")
    return _back()


@bp.route("/notifications")
@login_required
def notifications():
    rows = services().notifications.for_actor(current_account().actor, limit=50)
    return render_template("inbox/notifications.html", rows=rows)
