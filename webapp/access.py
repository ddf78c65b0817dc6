"""Who may do what: the login and role decorators and the ONE dossier scope check (the session
itself is checked in :mod:`.sessions`).

Every view that shows or changes a dossier goes through :func:`load_dossier_or_404`, every list
of dossiers through :func:`visible_dossiers`; every view of a user group is wrapped in
:func:`roles_required`. Templates never decide permissions: they receive what these functions
decided.
"""

from __future__ import annotations

import functools

from flask import abort, current_app, g, redirect, request, url_for
from flask_babel import gettext as _

from engine import Account, Actor, Conflict, DossierSummary, Forbidden, NotFound, Organisations, roles, task_refusal

from .services import services

#: roles that see every dossier
SEE_ALL = frozenset({roles.INSTRUCTEUR, roles.SERVICE_CONVENTIONS, roles.AUDITOR, roles.ADMIN, roles.PROCESS_OWNER})
TECHNICIENS = frozenset({roles.TECHNICIEN_COMMUNE, roles.TECHNICIEN_EPCI})
JURY = frozenset({roles.JURY_TERRITORIAL, roles.JURY_REGIONAL, roles.PRESIDENT_JURY})
#: every role that works in the inbox
STAFF = frozenset(roles.ALL_ROLES) - {roles.PORTEUR}


def current_account() -> Account | None:
    return g.get("account")


def current_actor() -> Actor:
    account = current_account()
    if account is None:
        abort(401)
    return account.actor


def _to_login():
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_account() is None:
            return _to_login()
        return view(*args, **kwargs)

    return wrapped


def roles_required(*allowed: str):
    """Login required, and at least one of ``allowed`` roles (403 with a clear page otherwise)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            account = current_account()
            if account is None:
                return _to_login()
            if not set(allowed) & set(account.roles):
                raise Forbidden(_("Cette page est réservée à d’autres rôles que les vôtres."))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _jurys(dossier: DossierSummary) -> dict:
    """The jury sessions of the dossier's campaign snapshot, read once per request.

    The snapshot taken at the dossier's start is the one source of truth for who examines it:
    the engine assigns the jury's tasks from it, so the pages and the API read the same and
    never the campaign's current data (editing a campaign changes no running dossier's jury).
    """
    found = g.setdefault("dossier_jurys", {})
    if dossier.id not in found:
        found.update(services().queries.jury_sessions([dossier.id]))
    return found.get(dossier.id, {})


def _jury_member(actor: Actor, dossier: DossierSummary) -> bool:
    if not dossier.jury_type:
        return False  # the dossier has not reached the jury yet
    jurys = _jurys(dossier)
    territorial = jurys.get("territoriaux", {}).get(dossier.epci or "", {})
    regional = jurys.get("regional", {})

    def member(jury: dict) -> bool:
        return actor.login in jury.get("membres", ()) or actor.login == jury.get("president")

    jury = services().queries.contract(dossier.deployment_id).jury  # the model names its regional jury
    return member(territorial) or (jury is not None and dossier.jury_type == jury.regional_type and member(regional))


def porteurs_read_by(actor: Actor) -> frozenset[str]:
    """The porteurs whose dossiers ``actor`` reads as a porteur: themselves and the other members
    of their association (read once per request)."""
    if not actor.has(roles.PORTEUR):
        return frozenset()
    cache = g.setdefault("colleagues", {})
    if actor.login not in cache:
        cache[actor.login] = Organisations(services().accounts, current_app.secret_key).colleagues(actor.login)
    return cache[actor.login]


def dossiers_of_association(actor: Actor) -> list[DossierSummary]:
    """The dossiers of ``actor`` and of the other members of their association, newest first."""
    dossiers = [d for login in porteurs_read_by(actor) for d in services().queries.dossiers_of_porteur(login)]
    return sorted(dossiers, key=lambda d: (d.created_at, d.id), reverse=True)


def can_see(actor: Actor, dossier: DossierSummary, conflicts: set[int] | None = None) -> bool:
    """The scope rule, stated once.

    ``conflicts``: the dossiers on which the actor declared a conflict of interest, when the
    caller has read them for a whole list (else this dossier's journal is read).
    """
    if dossier.porteur in porteurs_read_by(actor):
        return True
    if actor.roles & SEE_ALL:
        return True
    if actor.roles & TECHNICIENS and dossier.epci in actor.epci:
        return True
    if actor.roles & JURY and _jury_member(actor, dossier):
        if conflicts is not None:
            return dossier.id not in conflicts
        return not services().queries.declared_conflict(dossier.id, actor.login)
    return False


#: lists every dossier, for narrowing down with `can_see` (never to decide what is shown)
_EVERY_DOSSIER = frozenset({roles.AUDITOR})


def _matches(dossier: DossierSummary, text: str | None, step: str | None, status: str | None) -> bool:
    """The search of :meth:`engine.Queries.dossiers_for_staff`, on a dossier already read."""
    if text and not any(text.lower() in (value or "").lower() for value in (dossier.ref, dossier.title,
                                                                               dossier.porteur)):
        return False
    if step and not any(open_step.bpmn_id == step for open_step in dossier.open_steps):
        return False
    return not status or dossier.status == status


def visible_dossiers(actor: Actor, *, epci: str | None, campaign: str | None, page: int, per_page: int,
                     text: str | None = None, step: str | None = None, status: str | None = None):
    """One page of the dossiers `actor` may see and their count, newest activity first; ``text``,
    ``step`` and ``status`` search them (:meth:`engine.Queries.dossiers_for_staff`).

    Regional staff and techniciens are paged in SQL (the query applies the same EPCI scope as
    :func:`can_see`). Jury members and porteurs have few dossiers, read whole and kept when
    :func:`can_see` says so.
    """
    queries = services().queries
    staff = actor.roles & STAFF
    if actor.roles & SEE_ALL or (staff and staff <= TECHNICIENS):
        return queries.dossiers_for_staff(actor, epci=epci, campaign=campaign, page=page, per_page=per_page,
                                          text=text, step=step, status=status)
    candidates = dossiers_of_association(actor)
    if staff & JURY:
        seen = {d.id for d in candidates}
        # Only a dossier some jury has reached can be a jury member's (can_see decides which).
        candidates += [d for d in _every_dossier(actor, epci, campaign) if d.jury_type and d.id not in seen]
        candidates.sort(key=lambda d: (d.updated_at, d.id), reverse=True)
    candidates = [d for d in candidates
                  if (not epci or d.epci == epci) and (not campaign or d.campaign_code == campaign)
                  and _matches(d, text, step, status)]
    # One read of the conflicts the jury member declared, for the whole list.
    conflicts = services().queries.declared_conflicts([d.id for d in candidates], actor.login) if staff & JURY else None
    if staff & JURY:  # and of the candidates' jury sessions (their snapshots), for can_see
        g.setdefault("dossier_jurys", {}).update(queries.jury_sessions([d.id for d in candidates if d.jury_type]))
    shown = [d for d in candidates if can_see(actor, d, conflicts)]
    return shown[(page - 1) * per_page : page * per_page], len(shown)


def _every_dossier(actor: Actor, epci: str | None, campaign: str | None, chunk: int = 500):
    reader = Actor(actor.login, _EVERY_DOSSIER)
    page = 1
    while True:
        rows, total = services().queries.dossiers_for_staff(
            reader, epci=epci, campaign=campaign, page=page, per_page=chunk
        )
        yield from rows
        if page * chunk >= total:
            return
        page += 1


def load_dossier_or_404(instance_id: int) -> DossierSummary:
    """The dossier if the current person may see it. A porteur gets 404 for any other porteur's dossier
    (its existence is not revealed); staff out of scope get a 403 page."""
    actor = current_actor()
    try:
        dossier = services().queries.dossier(instance_id)
    except NotFound:
        abort(404)
    if can_see(actor, dossier):
        return dossier
    if not actor.roles & STAFF:
        abort(404)
    raise Forbidden(
        _("Ce dossier est hors de votre périmètre (EPCI, session de jury ou conflit d’intérêts déclaré).")
    )


def can_do(actor: Actor, dossier: DossierSummary, role: str, assignee: str | None, claimed_by: str | None) -> bool:
    """Whether ``actor`` may work on an open step (the engine's rule; it checks it again on the command)."""
    return task_refusal(actor, role, assignee, claimed_by, dossier.epci) is None


def open_task_or_refuse(actor: Actor, dossier: DossierSummary, ref: str):
    """The open task ``ref`` of ``dossier`` (a task view) if ``actor`` may work on it; None when it
    is not open (done, withdrawn, past its deadline, or no such step); 409 when a colleague has
    claimed it, 403 when it is another role's or person's. Pages and API share this answer."""
    view = next((v for v in services().engine.task_views(dossier.id) if v.ref == ref), None)
    if view is not None and not can_do(actor, dossier, view.role, view.assignee, view.claimed_by):
        if view.claimed_by and view.claimed_by != actor.login:
            raise Conflict(_("%(login)s a pris en charge cette étape.", login=view.claimed_by))
        raise Forbidden(_("Cette étape est réservée à un autre rôle ou à une autre personne."))
    return view
