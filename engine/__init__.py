"""The DSDT workflow engine: a library the web app and the ``dsdt`` command call.

This module is the only public surface; ``webapp`` imports nothing deeper.
"""

from . import audit as audit_api
from . import campaigns as campaigns_api
from . import convention_list, conventions, disclosure, exports, juries, limits, model_drafts, roles, seals
from .account_policy import account_policy
from .accounts import MAX_FAILURES, Account, AccountLocked, AccountService, LoginFailed
from .analytics import Analytics, AnalyticsFilter, ProcessAnalytics, StepStats
from .attachments import ALLOWED_TYPES, MAX_BYTES, AttachmentInfo, AttachmentStore
from .audit import Audit, AuditFilter, AuditRow, IntegrityBatch, IntegrityResult
from .bpmn.lint import lint_files
from .clock import Clock, FixedClock, OffsetClock, SystemClock
from .commands import SYSTEM, Actor, task_refusal
from .config import EngineConfig
from .contract import CONTRACT_FILE, Contract
from .convention_list import ConventionSummary
from .deployments import DeploymentInfo, read_model_files
from .digests import DigestReport, Digests
from .dossier_migrations import MigrationReport, migrate_dossiers
from .drafts import DraftStore
from .errors import Conflict, EngineError, Forbidden, Invalid, NotFound, ScriptFailed, Unavailable
from .form_options import bind_options
from .history import FieldChange, History, HistoryEntry
from .history_check_jobs import cancel_check, check_status, start_check
from .inbox import InboxFilter
from .inbox import counts as inbox_counts
from .jury_admin import JuryAdmin
from .jury_minutes import CRITERIA as JURY_CRITERIA
from .jury_minutes import read_minutes
from .jury_reminders import JuryReminders, ReminderReport
from .jury_sessions import Attendance, JurySessions, forward_waiting
from .lockouts import Lockout, Lockouts
from .model_archive import export_zip, import_upload
from .model_diff import MAX_VALUE as DIFF_MAX_VALUE
from .model_drafts import DraftSummary, ModelDraftInfo, ModelDrafts
from .notifications_store import NotificationCenter, SmtpSettings, StoredNotifier
from .organisations import OrganisationInfo, Organisations
from .outbox import Outbox, OutboxPage
from .overview import IncidentCounts, Overview, VersionRow
from .persistence.connection_scope import connection_scope
from .persistence.db import Database
from .queries import CampaignInfo, DossierSummary, OpenStep, Queries, StepInfo, TimelineEntry, completed_steps
from .receipts import Receipt, ReceiptFile, Receipts
from .registration import Application, LinkExpired, LinkInvalid, Registrations
from .replay import VerifyReport
from .replay_steps import EntryLabel, ProcessMarks, ReplayPoint, ReplayView, StepThen
from .seal_audit import SealReport
from .seals import Sealer
from .service import WorkflowEngine
from .timers import Worker
from .transient import DATABASE_ERRORS, as_unavailable
from .versions import diff_versions, list_versions, version_files

__all__ = [
    "ALLOWED_TYPES",
    "Account",
    "AccountLocked",
    "AccountService",
    "Actor",
    "Analytics",
    "AnalyticsFilter",
    "Application",
    "AttachmentInfo",
    "AttachmentStore",
    "Attendance",
    "Audit",
    "AuditFilter",
    "AuditRow",
    "CONTRACT_FILE",
    "CampaignInfo",
    "Clock",
    "Conflict",
    "Contract",
    "ConventionSummary",
    "DATABASE_ERRORS",
    "DIFF_MAX_VALUE",
    "Database",
    "DeploymentInfo",
    "DigestReport",
    "Digests",
    "DossierSummary",
    "DraftStore",
    "DraftSummary",
    "EngineConfig",
    "EngineError",
    "EntryLabel",
    "FieldChange",
    "FixedClock",
    "Forbidden",
    "History",
    "HistoryEntry",
    "InboxFilter",
    "IncidentCounts",
    "IntegrityBatch",
    "IntegrityResult",
    "Invalid",
    "JURY_CRITERIA",
    "JuryAdmin",
    "JuryReminders",
    "JurySessions",
    "LinkExpired",
    "LinkInvalid",
    "Lockout",
    "Lockouts",
    "LoginFailed",
    "MAX_BYTES",
    "MAX_FAILURES",
    "MigrationReport",
    "ModelDraftInfo",
    "ModelDrafts",
    "NotFound",
    "NotificationCenter",
    "OffsetClock",
    "OpenStep",
    "OrganisationInfo",
    "Organisations",
    "Outbox",
    "OutboxPage",
    "Overview",
    "ProcessAnalytics",
    "ProcessMarks",
    "Queries",
    "Receipt",
    "ReceiptFile",
    "Receipts",
    "Registrations",
    "ReminderReport",
    "ReplayPoint",
    "ReplayView",
    "SYSTEM",
    "ScriptFailed",
    "SealReport",
    "Sealer",
    "SmtpSettings",
    "StepInfo",
    "StepStats",
    "StepThen",
    "StoredNotifier",
    "SystemClock",
    "TimelineEntry",
    "Unavailable",
    "VerifyReport",
    "VersionRow",
    "Worker",
    "WorkflowEngine",
    "account_policy",
    "as_unavailable",
    "audit_api",
    "bind_options",
    "campaigns_api",
    "cancel_check",
    "check_status",
    "completed_steps",
    "connection_scope",
    "convention_list",
    "conventions",
    "diff_versions",
    "disclosure",
    "export_zip",
    "exports",
    "forward_waiting",
    "import_upload",
    "inbox_counts",
    "juries",
    "limits",
    "lint_files",
    "list_versions",
    "migrate_dossiers",
    "model_drafts",
    "read_minutes",
    "read_model_files",
    "roles",
    "seals",
    "start_check",
    "task_refusal",
    "version_files",
]
