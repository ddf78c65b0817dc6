"""The auditors' pages (role ``auditeur``; process owners and administrators too): search every
dossier and export the results, read a dossier's history entry by entry, check integrity.

Every page here is a GET that changes nothing: an auditor reads, never acts (the test
``tests/webapp/test_audit_readonly.py`` refuses them every other route of the app and the API).
The reads are the engine's (:class:`engine.Audit`); dates typed by the auditor are days in
Europe/Paris, turned into UTC instants here, and shown back in Europe/Paris (``filters.when``).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import Audit, AuditFilter, Invalid, NotFound, audit_api, limits, roles

from .access import roles_required
from .filters import OUTCOME_LABELS
from .services import services

bp = Blueprint("audit", __name__, url_prefix="/audit")

#: the roles that read these pages: they oversee every dossier and every field
AUDIT_ROLES = (roles.AUDITOR, roles.PROCESS_OWNER, roles.ADMIN)
PER_PAGE = 50
#: dossiers replayed per request of the "check everything" run (a request stays within seconds)
BATCH = 10
#: divergent dossiers carried from batch to batch in the page's address (the count goes on beyond)
CARRIED = 50
#: the query arguments of a search (the export and the pager carry the same)
#: the most rows one export writes (beyond it the page asks to narrow the search)
EXPORT_LIMIT = audit_api.EXPORT_LIMIT
SEARCH_ARGS = ("ref", "porteur", "epci", "campagne", "etape", "issue", "version", "dates", "du", "au")


def _audit() -> Audit:
    return Audit(services().engine)


def _paris() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _day(raw: str, errors: dict, key: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[key] = _("Date non valide : saisissez-la au format AAAA-MM-JJ.")
        return None


def parse_filter(args) -> tuple[AuditFilter, dict[str, str]]:
    """The search the auditor typed, and a message per field that cannot be read (not searched)."""
    errors: dict[str, str] = {}
    text = {key: (args.get(key) or "").strip() for key in SEARCH_ARGS}
    for key, value in text.items():
        if len(value) > limits.MAX_SHORT_TEXT:
            errors[key] = _("%(n)s caractères au plus.", n=limits.MAX_SHORT_TEXT)
    version = None
    if text["version"]:
        if text["version"].isdigit() and len(text["version"]) < 10:
            version = int(text["version"])
        else:
            errors["version"] = _("Un numéro de version est un nombre entier.")
    since, until = _day(text["du"], errors, "du"), _day(text["au"], errors, "au")
    if since and until and since > until:
        errors["au"] = _("La date de fin précède la date de début.")
    date_field = text["dates"] or "created"
    if date_field not in audit_api.DATE_FIELDS:
        errors["dates"], date_field = _("Choisissez la date de dépôt ou celle de la dernière activité."), "created"
    paris = _paris()
    flt = AuditFilter(
        ref=text["ref"] or None, porteur=text["porteur"] or None, epci=text["epci"] or None,
        campaign=text["campagne"] or None, step=text["etape"] or None, outcome=text["issue"] or None,
        version=version, date_field=date_field,
        # A day typed in Paris runs from its midnight to the next one there (23 or 25 hours at the switch).
        since=datetime.combine(since, time(), paris).astimezone(UTC) if since else None,
        before=datetime.combine(until + timedelta(days=1), time(), paris).astimezone(UTC) if until else None,
    )
    return flt, errors


def _page(args) -> int:
    raw = args.get("page", "1")
    return min(int(raw), limits.MAX_PAGE) if raw.isdigit() and len(raw) < 10 and int(raw) > 0 else 1


def _search_args(args) -> dict[str, str]:
    return {key: args[key] for key in SEARCH_ARGS if args.get(key)}


@bp.route("/")
@roles_required(*AUDIT_ROLES)
def search():
    flt, errors = parse_filter(request.args)
    page = _page(request.args)
    rows, total = ([], 0) if errors else _audit().search(flt, page, PER_PAGE)
    svc = services()
    deployment = svc.queries.current_deployment_id()
    # The steps of the current version (an older version's own steps can still be typed in the address).
    steps = sorted(svc.queries.steps(deployment).values(), key=lambda step: step.name) if deployment else []
    return render_template(
        "audit/search.html", rows=rows, total=total, page=page, pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        errors=errors, args=_search_args(request.args), choices=_audit().choices(), steps=steps,
        campaigns=svc.queries.campaigns(), outcomes=OUTCOME_LABELS, running=audit_api.RUNNING,
        export_limit=EXPORT_LIMIT,
    ), (400 if errors else 200)


def _cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``= + - @`` would make it a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/export.csv")
@roles_required(*AUDIT_ROLES)
def export():
    """The whole search as CSV (``;``-separated UTF-8 with a BOM, as French spreadsheets open it)."""
    flt, errors = parse_filter(request.args)
    if errors:
        raise Invalid(_("La recherche comporte des erreurs : corrigez-la avant d’exporter."))
    rows = _audit().export(flt, EXPORT_LIMIT)  # beyond its limit: Invalid, a page that says to narrow the search
    paris = _paris()
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("Dossier"), _("Projet"), _("Campagne"), _("EPCI"), _("Porteur"), _("État"), _("Issue"),
                     _("Version du processus"), _("Déposé le"), _("Dernière activité"), _("Étapes en cours")])
    for row in rows:
        writer.writerow([_cell(value) for value in (
            row.ref, row.title, row.campaign_code, row.epci, row.porteur,
            _("Terminé") if row.status == "completed" else _("En cours"),
            OUTCOME_LABELS.get(row.outcome, row.outcome) if row.outcome else "", row.version,
            row.created_at.astimezone(paris).isoformat(timespec="seconds"),
            row.updated_at.astimezone(paris).isoformat(timespec="seconds"), " | ".join(row.open_steps),
        )])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=dossiers-audit.csv"})


def shown(value) -> str:
    """A recorded value as text: strings as they are, anything else as JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@bp.app_template_filter("audit_value")
def audit_value(value) -> str:
    return shown(value)


def _dossier(instance_id: int):
    try:
        return services().queries.dossier(instance_id)
    except NotFound:
        abort(404)


@bp.route("/dossiers/<int:instance_id>")
@roles_required(*AUDIT_ROLES)
def history(instance_id: int):
    dossier = _dossier(instance_id)
    return render_template("audit/history.html", dossier=dossier, history=_audit().history(instance_id))


@bp.route("/dossiers/<int:instance_id>/integrite")
@roles_required(*AUDIT_ROLES)
def integrity_one(instance_id: int):
    dossier = _dossier(instance_id)
    return render_template("audit/integrity_one.html", dossier=dossier, result=_audit().verify_one(instance_id))


@bp.route("/integrite")
@roles_required(*AUDIT_ROLES)
def integrity():
    """Check one dossier (by reference) or start checking them all."""
    wanted = (request.args.get("dossier") or "").strip()
    error = None
    if wanted:
        try:
            found = _audit().find(wanted[: limits.MAX_SHORT_TEXT])
        except NotFound:
            error = _("Aucun dossier ne porte la référence « %(ref)s ».", ref=wanted[: limits.MAX_SHORT_TEXT])
        else:
            return redirect(url_for("audit.integrity_one", instance_id=found))
    return render_template("audit/integrity.html", wanted=wanted, error=error), (404 if error else 200)


def _ids(raw: str) -> list[int]:
    """The divergent dossiers carried in the address (``12,57``); anything unreadable is dropped."""
    return [int(part) for part in raw.split(",")[:CARRIED] if part.isdigit() and len(part) < 19]


@bp.route("/integrite/tous")
@roles_required(*AUDIT_ROLES)
def integrity_all():
    """One batch of the run over every dossier, by id; the page links (or, when asked, moves on)
    to the next batch, so no request holds the whole database and nothing needs JavaScript."""
    after = request.args.get("apres", "0")
    after_id = int(after) if after.isdigit() and len(after) < 19 else 0
    carried = _ids(request.args.get("ko", ""))
    raw_count = request.args.get("nb_ko", "0")
    failed = int(raw_count) if raw_count.isdigit() and len(raw_count) < 10 else 0
    auto = request.args.get("auto") == "1"
    batch = _audit().verify_batch(after_id, BATCH)
    divergent = [result for result in batch.results if not result.ok]
    failed += len(divergent)
    carried = (carried + [result.instance_id for result in divergent])[:CARRIED]
    finished = batch.last_id is None or batch.done >= batch.total
    next_args = {"apres": batch.last_id or after_id, "ko": ",".join(map(str, carried)), "nb_ko": failed}
    return render_template(
        "audit/integrity_all.html", batch=batch, divergent=divergent, failed=failed, finished=finished,
        carried=_audit().refs(carried), auto=auto and not finished, next_args=next_args,
    )


# The downloads (event logs, a dossier's archive) live beside, on this blueprint.
from . import audit_exports  # noqa: E402,F401
