"""Labels and formats for templates: roles, outcomes, commands, dates in Europe/Paris, navigation."""

from __future__ import annotations

from datetime import datetime

from flask_babel import format_date, format_datetime
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
}

COMMAND_LABELS = {
    "start": _l("Candidature créée"),
    "complete": _l("Étape réalisée"),
    "claim": _l("Étape prise en charge"),
    "unclaim": _l("Étape remise à disposition"),
    "delegate": _l("Étape déléguée"),
    "withdraw": _l("Retrait du porteur"),
    "fire_timers": _l("Échéance atteinte"),
}


def when(value: datetime | None) -> str:
    return format_datetime(value, "dd/MM/yyyy HH:mm") if value else ""


def day(value: datetime | None) -> str:
    return format_date(value, "dd/MM/yyyy") if value else ""


def navigation(account) -> list[tuple[str, object]]:
    """(endpoint, label) of the menu entries this account has."""
    if account is None:
        return []
    held = set(account.roles)
    items = []
    if held - {roles.PORTEUR}:
        items.append(("inbox.index", _l("Mes tâches")))
        items.append(("dossiers.staff_list", _l("Dossiers")))
    if roles.PORTEUR in held:
        items.append(("dossiers.mine", _l("Mes candidatures")))
        if account.organisation_id is not None:
            items.append(("organisation.members", _l("Mon association")))
    items.append(("inbox.notifications", _l("Notifications")))
    if roles.ADMIN in held:
        items.append(("home.admin", _l("Administration")))
        items.append(("admin.users", _l("Utilisateurs")))
        items.append(("admin.outbox", _l("Boîte d'envoi")))
    if roles.PROCESS_OWNER in held:
        items.append(("home.owner", _l("Processus")))
    if held & {roles.ADMIN, roles.PROCESS_OWNER}:
        items.append(("admin.incidents", _l("Incidents")))
    if held & {roles.AUDITOR, roles.ADMIN, roles.PROCESS_OWNER}:
        items.append(("audit.search", _l("Audit")))
    return items


def register(app) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["role_label"] = lambda code: ROLE_LABELS.get(code, code)
    app.jinja_env.filters["outcome_label"] = lambda code: OUTCOME_LABELS.get(code, code or "")
    app.jinja_env.filters["command_label"] = lambda code: COMMAND_LABELS.get(code, code)
