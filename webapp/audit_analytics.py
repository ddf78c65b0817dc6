"""Process analytics for auditors, process owners and administrators (:data:`webapp.audit.AUDIT_ROLES`).

``/audit/analytics/`` shows, for the dossiers of a campaign, an EPCI and a process version (each
optional): the count per outcome, the median and 90th percentile of each step's duration and of
the waiting before it, and of the whole lifecycle (definitions in :mod:`engine.analytics`), as
tables (the accessible form) and as bar charts drawn on the server as SVG, each downloadable.
With JavaScript, ``heatmap.js`` colours the diagram of the process by the median waiting before
each step (``heatmap.json``); the table holds the same numbers. Every page here is a GET that
changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _

from engine import Analytics, AnalyticsFilter, audit_api, limits

from .access import roles_required
from .audit import AUDIT_ROLES
from .charts import Chart, render
from .diagram import diagram_data
from .filters import OUTCOME_LABELS
from .services import services

bp = Blueprint("analytics", __name__, url_prefix="/audit/analytics")

FILTER_ARGS = ("campagne", "epci", "version")
CHARTS = ("issues", "durees", "attentes")
#: the colour classes of the heatmap, from the shortest median waiting to the longest
HEAT_LEVELS = 5


def _analytics() -> Analytics:
    return Analytics(services().engine)


def parse_filter(args) -> tuple[AnalyticsFilter, dict[str, str], dict[str, str]]:
    """The filter typed, a message per field that cannot be read, and the arguments to carry on."""
    errors: dict[str, str] = {}
    text = {key: (args.get(key) or "").strip() for key in FILTER_ARGS}
    for key, value in text.items():
        if len(value) > limits.MAX_SHORT_TEXT:
            errors[key] = _("%(n)s caractères au plus.", n=limits.MAX_SHORT_TEXT)
    version = None
    if text["version"] and "version" not in errors:
        if text["version"].isdigit() and len(text["version"]) < 10:
            version = int(text["version"])
        else:
            errors["version"] = _("Un numéro de version est un nombre entier.")
    flt = AnalyticsFilter(campaign=text["campagne"] or None, epci=text["epci"] or None, version=version)
    return flt, errors, {key: value for key, value in text.items() if value}


def duration_text(seconds: float | None) -> str:
    """Seconds as a reader reads them: days beyond a day, else hours, else minutes."""
    if seconds is None:
        return "—"
    if seconds >= 86400:
        return _("%(n)s j", n=format_decimal(seconds / 86400, format="#,##0.0"))
    if seconds >= 3600:
        return _("%(n)s h", n=format_decimal(seconds / 3600, format="#,##0.0"))
    return _("%(n)s min", n=format_decimal(seconds / 60, format="#,##0"))


def outcome_label(code: str) -> str:
    if code == audit_api.RUNNING:
        return _("En cours")
    return str(OUTCOME_LABELS.get(code, code)) if code else _("Clos sans issue")


def _computed():
    flt, errors, args = parse_filter(request.args)
    if errors:
        return None, errors, args
    return _analytics().compute(flt), errors, args


@bp.route("/")
@roles_required(*AUDIT_ROLES)
def page():
    result, errors, args = _computed()
    return render_template(
        "audit/analytics.html", result=result, errors=errors, args=args, choices=_analytics().choices(),
        campaigns=services().queries.campaigns(), duration=duration_text, outcome_label=outcome_label,
        charts=CHARTS, heat_levels=HEAT_LEVELS,
    ), (400 if errors else 200)


def _chart(kind: str, result) -> tuple[Chart, object]:
    if kind == "issues":
        return Chart(_("Dossiers par issue"), _("Nombre de dossiers pour chaque issue, en cours compris."),
                     [_("Dossiers")], [(outcome_label(code), [float(n)]) for code, n in result.outcomes.items()]), (
            lambda value: format_decimal(value, format="#,##0"))
    if kind == "durees":
        return Chart(_("Durée des étapes"), _("Médiane et 90e centile de la durée de chaque étape, de son ouverture "
                                              "à son achèvement."),
                     [_("Médiane"), _("90e centile")],
                     [(step.name, [step.duration.median, step.duration.p90]) for step in result.steps]), duration_text
    return Chart(_("Attente avant les étapes"), _("Médiane et 90e centile de l’attente avant chaque étape, de la "
                                                  "fin de l’étape précédente à sa prise en charge."),
                 [_("Médiane"), _("90e centile")],
                 [(step.name, [step.waiting.median, step.waiting.p90]) for step in result.steps]), duration_text


@bp.route("/graphique-<kind>.svg")
@roles_required(*AUDIT_ROLES)
def chart(kind: str):
    """One chart as an SVG document; ``telecharger=1`` makes it a download."""
    if kind not in CHARTS:
        abort(404)
    result, errors, _args = _computed()
    if errors:
        abort(400)
    chart_, shown = _chart(kind, result)
    response = Response(render(chart_, shown), mimetype="image/svg+xml")
    # Drawn from escaped text only; still, an SVG opened on its own gets no script nor outside content.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    if request.args.get("telecharger") == "1":
        response.headers["Content-Disposition"] = f"attachment; filename=analyse-{kind}.svg"
    return response


def _level(value: float, top: float) -> int:
    return min(int(HEAT_LEVELS * value / top), HEAT_LEVELS - 1) if top > 0 else 0


@bp.route("/heatmap.json")
@roles_required(*AUDIT_ROLES)
def heatmap():
    """The diagrams of the process version (the filtered one, else the newest) with, per step, the
    median waiting before it: its value as text, and a colour level from 0 to ``HEAT_LEVELS - 1``."""
    flt, errors, _args = parse_filter(request.args)
    if errors:
        abort(400)
    analytics = _analytics()
    result = analytics.compute(flt)
    deployment_id = analytics.deployment_id(flt.version)
    if deployment_id is None:
        return jsonify(diagrams=[], levels=HEAT_LEVELS)
    svc = services()
    waiting = {step.bpmn_id: step.waiting.median for step in result.steps if step.waiting.median is not None}
    files = svc.queries.model_files(deployment_id)
    diagrams = diagram_data(files, sorted(waiting), [], main_process=svc.queries.contract(deployment_id).main_process)
    top = max(waiting.values(), default=0.0)
    by_phase = {}
    for diagram in diagrams:
        if not diagram["main"]:
            by_phase[diagram["calledBy"]] = max((waiting[i] for i in diagram["done"]), default=0.0)
    for diagram in diagrams:
        values = by_phase if diagram["main"] else {i: waiting[i] for i in diagram["done"]}
        diagram["heat"] = {element: {"level": _level(value, top), "text": duration_text(value)}
                           for element, value in values.items()}
        del diagram["done"], diagram["current"]
    return jsonify(diagrams=diagrams, levels=HEAT_LEVELS)
