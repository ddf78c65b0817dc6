"""The DSDT web application (Flask). The engine is a library it calls.

:func:`create_app` loads the defaults, then the ``DSDT_`` environment variables, then the test
mapping; it builds one :class:`~engine.WorkflowEngine` and its web-facing services
(``app.extensions["dsdt"]``, :mod:`.services`) and registers one blueprint per user group.
"""

from __future__ import annotations

from flask import Flask, g, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from engine import account_policy

csrf = CSRFProtect()

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def select_locale() -> str:
    return session.get("lang") or "fr"


def create_app(test_config: dict | None = None) -> Flask:
    from . import (
        admin,
        api,
        audit,
        auth,
        bounds,
        config,
        connection_scope,
        dossiers,
        errors,
        filters,
        inbox,
        modeler_archive,  # noqa: F401  (import and export zips, on the modeler blueprint)
        modeler_contract,  # noqa: F401  (the draft's contract.json page, on the modeler blueprint)
        modeler_history,  # noqa: F401  (test against history, on the modeler blueprint)
        modeler_versions,  # noqa: F401  (the versions pages, on the modeler blueprint)
        request_ids,
        request_log,
        sessions,
    )
    from .audit_analytics import bp as analytics_bp
    from .audit_replay import bp as replay_bp
    from .conventions import bp as conventions_bp
    from .health import register as register_health
    from .home import bp as home_bp
    from .juries import bp as juries_bp
    from .lockouts import bp as lockouts_bp
    from .modeler import bp as modeler_bp
    from .modeler_api import bp as modeler_api_bp
    from .organisation import bp as organisation_bp
    from .profile import bp as profile_bp
    from .receipts import bp as receipts_bp
    from .registration import bp as registration_bp
    from .services import build
    from .virtual_clock import register as register_virtual_clock

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config.DEFAULTS)
    app.config.from_mapping(config.from_env())
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.instance_secret_key(app.instance_path)

    services = build(app.config, app.config.get("DSDT_ENGINE"))
    app.extensions["dsdt"] = services
    bounds.register(app)  # first: the int converter must be in place before any route is added

    csrf.init_app(app)
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    filters.register(app)
    errors.register(app)
    request_ids.register(app)
    request_log.register(app)  # one record per request: method, path, status, duration, account
    connection_scope.register(app)  # one connection checkout per request: before any database use
    app.before_request(sessions.load_user)

    @app.context_processor
    def layout():
        return {"account": g.get("account"), "lang": select_locale(), "nav": filters.navigation(g.get("account")),
                "policy": account_policy()}  # the engine's numbers the pages state (passwords, links)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    for module in (auth, inbox, dossiers, admin, audit):
        app.register_blueprint(module.bp)
    app.register_blueprint(registration_bp)  # registration, e-mail verification, forgotten passwords
    app.register_blueprint(lockouts_bp)  # administrators: throttled logins
    app.register_blueprint(organisation_bp)  # an association's members and invitations
    app.register_blueprint(home_bp)  # the home pages of administrators and process owners
    app.register_blueprint(analytics_bp)  # auditors and process owners: process analytics
    app.register_blueprint(replay_bp)  # auditors: a dossier's state after any journal entry
    app.register_blueprint(receipts_bp)  # récépissés de dépôt (PDF) of porteur submissions
    app.register_blueprint(conventions_bp)  # conventions DSDT per EPCI: list, open, state
    app.register_blueprint(juries_bp)  # juries, seats, sessions, impossibility, procès-verbal
    app.register_blueprint(profile_bp)  # /profil: the account, the daily digest choice
    app.register_blueprint(modeler_bp)  # process owners: model drafts, BPMN/DMN/form editors, deploy
    app.register_blueprint(modeler_api_bp)  # process owners: POST /modeler/api/validate (lint, for overlays)
    api.init_app(app, csrf)
    register_health(app, csrf)  # /healthz and /readyz: no login, for load balancers
    register_virtual_clock(app)  # the footer's banner when DSDT_CLOCK_OFFSET is set
    app.add_url_rule("/", "index", auth.home)
    return app
