"""The engine and its web-facing services, built once per app and found through ``current_app``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from engine import (
    MAX_BYTES,
    AccountService,
    AttachmentStore,
    Digests,
    DraftStore,
    EngineConfig,
    JuryReminders,
    NotificationCenter,
    Outbox,
    Overview,
    Queries,
    SmtpSettings,
    StoredNotifier,
    WorkflowEngine,
)


@dataclass
class Services:
    engine: WorkflowEngine
    accounts: AccountService
    queries: Queries
    drafts: DraftStore
    attachments: AttachmentStore
    notifications: NotificationCenter
    outbox: Outbox
    overview: Overview
    digests: Digests
    jury_reminders: JuryReminders


#: the task page (``dossiers.task``) as the e-mails link to it; tests/webapp/test_home.py opens one
TASK_PAGE = "/dossiers/{instance_id}/etape/{task_ref}"


def _task_link(config: dict, base: EngineConfig) -> str:
    """The task page's address at the public address, as the mails give it."""
    return (config.get("DSDT_PUBLIC_URL") or base.public_url).rstrip("/") + TASK_PAGE


def _notifier(config: dict, base: EngineConfig) -> StoredNotifier:
    """The stored notifier, its mails linking to the task page at the public address."""
    return StoredNotifier(task_link=_task_link(config, base))


def build(config: dict, engine: WorkflowEngine | None = None) -> Services:
    """Services over ``engine`` or over a new engine for ``config`` (see the schema note below)."""
    base = EngineConfig.from_env()
    if engine is None:
        url = config.get("DSDT_DATABASE_URL") or base.database_url
        # upgrade=None: the embedded SQLite default migrates at start (one process); on PostgreSQL
        # the schema must be current already (`dsdt migrate`), else the process refuses to start.
        engine = WorkflowEngine.from_config(
            base.with_database(url),
            upgrade=None,
            notifier=_notifier(config, base),
        )
    else:
        engine.notifier = _notifier(config, base)  # an engine handed in (tests) gets the stored notifier too
    smtp = None
    if config.get("DSDT_SMTP_HOST"):
        smtp = SmtpSettings(
            config["DSDT_SMTP_HOST"],
            int(config.get("DSDT_SMTP_PORT") or 25),
            config.get("DSDT_SMTP_SENDER") or "dsdt@localhost",
            config.get("DSDT_SMTP_USERNAME"),
            config.get("DSDT_SMTP_PASSWORD"),
            bool(config.get("DSDT_SMTP_STARTTLS")),
        )
    return Services(
        engine,
        AccountService(engine.db, engine.clock),
        Queries(engine),
        DraftStore(engine.db, engine.clock),
        AttachmentStore(engine.db, engine.clock, int(config.get("DSDT_MAX_UPLOAD_BYTES") or MAX_BYTES)),
        NotificationCenter(engine.db, engine.clock, smtp),
        Outbox(engine.db),
        Overview(engine.db),
        Digests(engine.db, engine.clock, _task_link(config, base)),
        JuryReminders(engine.db, engine.clock, task_link=_task_link(config, base)),
    )


def services() -> Services:
    return current_app.extensions["dsdt"]
