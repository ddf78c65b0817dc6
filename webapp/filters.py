"""Labels and formats for templates: roles, outcomes, commands, dates in Europe/Paris, navigation."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date, format_decimal, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine import roles

ROLE_LABELS = {
    roles.PORTEUR: _l("Porteur de projet"),
    roles.TECHNICIEN_COMMUNE: _l("Technicien commune"),
    roles.TECHNICIEN_EPCI: _l("Technicien EPCI"),
    roles.INSTRUCTEUR: _l("Instructeur Région"),
    roles.JURY_TERRITORIAL: _l("Membre du jury territorial"),
    roles.JURY_REGIONAL: _l("Membre du jury régional"),
    roles.PRESIDENT_JURY: _l("Président du jury"),
    roles.SERVICE_CONVENTIONS: _l("Service conventions"),
    roles.PROCESS_OWNER: _l("Responsable de processus"),
    roles.AUDITOR: _l("Auditeur"),
    roles.ADMIN: _l("Administrateur"),
}

OUTCOME_LABELS = {
    "inadapte": _l("Projet inadapté"),
    "hors_delai": _l("Hors délai"),
    "non_adequat": _l("Non adéquat au projet de territoire"),
    "irrecevable": _l("Irrecevable"),
    "rejete_participation": _l("Rejeté : participation des habitants insuffisante"),
    "defavorable": _l("Avis défavorable"),
    "abandonne": _l("Abandonné"),
    "conventionne": _l("Conventionné"),
    # a convention DSDT's outcomes (processes/convention_dsdt.bpmn)
    "refusee": _l("Convention refusée par un vote"),
    "abandonnee": _l("Négociation de la convention abandonnée"),
    "terminee": _l("Convention terminée"),
}

COMMAND_LABELS = {
    "start": _l("Candidature créée"),
    "complete": _l("Étape réalisée"),
    "claim": _l("Étape prise en charge"),
    "unclaim": _l("Étape remise à disposition"),
    "delegate": _l("Étape déléguée"),
    "withdraw": _l("Retrait du porteur"),
    "fire_timers": _l("Échéance atteinte"),
    "message": _l("Message reçu"),
    "jury_record": _l("Séance du jury"),
}


# One date format for the whole UI: the long date of the page's language ("8 décembre 2026",
# "December 8, 2026"), in Europe/Paris (BABEL_DEFAULT_TIMEZONE), with the time where it matters.
# Templates use these filters only, never isoformat() or strftime().


def day(value: date | datetime | None) -> str:
    """``8 décembre 2026``."""
    return format_date(value, "long") if value else ""


def when(value: datetime | None) -> str:
    """``8 décembre 2026 à 09:30``."""
    if not value:
        return ""
    return _("%(date)s à %(time)s", date=format_date(value, "long"), time=format_time(value, "HH:mm"))


def precise(value: datetime | None) -> str:
    """``8 décembre 2026 à 09:30:05``: to the second (the audit history)."""
    if not value:
        return ""
    return _("%(date)s à %(time)s", date=format_date(value, "long"), time=format_time(value, "HH:mm:ss"))


def filesize(size: int | None) -> str:
    """A file size a person reads: ``512 octets``, ``1,5 Kio``, ``2,3 Mio`` (never ``0.0 Kio``)."""
    size = int(size or 0)
    if size < 1024:
        return _("%(n)s octets", n=size) if size != 1 else _("1 octet")
    if size < 1024 * 1024:
        return _("%(n)s Kio", n=format_decimal(round(size / 1024, 1), "#,##0.#"))
    return _("%(n)s Mio", n=format_decimal(round(size / (1024 * 1024), 1), "#,##0.#"))


def navigation(account) -> list[tuple[str, object]]:
    """(endpoint, label) of the menu entries this account has."""
    if account is None:
        return []
    held = set(account.roles)
    items = []
    if held - {roles.PORTEUR}:
        items.append(("inbox.index", _l("Mes tâches")))
        items.append(("dossiers.staff_list", _l("Dossiers")))
    if held & {roles.INSTRUCTEUR, roles.SERVICE_CONVENTIONS, roles.TECHNICIEN_EPCI}:
        items.append(("conventions.index", _l("Conventions")))
    if held & {roles.ADMIN, roles.INSTRUCTEUR}:
        items.append(("juries.index", _l("Jurys")))
    if roles.PORTEUR in held:
        items.append(("dossiers.mine", _l("Mes candidatures")))
        if account.organisation_id is not None:
            items.append(("organisation.members", _l("Mon association")))
    items.append(("inbox.notifications", _l("Notifications")))
    items.append(("profile.show", _l("Mon profil")))
    if roles.ADMIN in held:
        items.append(("home.admin", _l("Administration")))
        items.append(("admin.users", _l("Utilisateurs")))
        items.append(("admin.outbox", _l("Boîte d’envoi")))
    if roles.PROCESS_OWNER in held:
        items.append(("home.owner", _l("Processus")))
    if held & {roles.ADMIN, roles.PROCESS_OWNER}:
        items.append(("modeler.index", _l("Modeleur")))
    if held & {roles.ADMIN, roles.PROCESS_OWNER}:
        items.append(("admin.incidents", _l("Incidents")))
    if held & {roles.AUDITOR, roles.ADMIN, roles.PROCESS_OWNER}:
        items.append(("audit.search", _l("Audit")))
    return items


def register(app) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["precise"] = precise
    app.jinja_env.filters["filesize"] = filesize
    app.jinja_env.filters["role_label"] = lambda code: ROLE_LABELS.get(code, code)
    app.jinja_env.filters["outcome_label"] = lambda code: OUTCOME_LABELS.get(code, code or "")
    app.jinja_env.filters["command_label"] = lambda code: COMMAND_LABELS.get(code, code)
