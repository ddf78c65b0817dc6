"""Tables of the engine. Schema changes go through Alembic (``engine/persistence/migrations``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


# SQLite only autoincrements INTEGER PRIMARY KEY; BigInteger elsewhere.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Blob(Base):
    """A file's content, stored once under its sha256."""

    __tablename__ = "blob"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Deployment(Base):
    """An immutable snapshot of every model and form file, with a version number."""

    __tablename__ = "deployment"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    author: Mapped[str] = mapped_column(String(120))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeploymentFile(Base):
    __tablename__ = "deployment_file"
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), primary_key=True)
    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"))


class Campaign(Base):
    """One call for projects: deadlines, EPCI and their priorities, jury sessions (``data``)."""

    __tablename__ = "campaign"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    libelle: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON)
    is_open: Mapped[bool] = mapped_column(default=True)


class Instance(Base):
    """One application (dossier) running on its pinned deployment."""

    __tablename__ = "instance"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    campaign_code: Mapped[str] = mapped_column(ForeignKey("campaign.code"))
    porteur: Mapped[str] = mapped_column(String(120), index=True)
    epci: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | completed
    outcome: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    jury_type: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(Text, deferred=True)  # large: read only when not cached
    #: the journal entry ``state`` is the result of (0: none yet; later entries are replayed on load)
    state_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: the process family it runs (``engine.contract``): ``candidature``, ``convention``...
    family: Mapped[str] = mapped_column(String(20), default="candidature", server_default="candidature")
    serializer_version: Mapped[str] = mapped_column(String(10))
    claims: Mapped[dict] = mapped_column(JSON, default=dict)  # task ref → login
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    journal_seq: Mapped[int] = mapped_column(Integer, default=0)
    journal_head: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_instance_campaign_status", "campaign_code", "status"),
                      Index("ix_instance_family_epci", "family", "epci"))


class JournalEntry(Base):
    """One applied command. Rows chain by hash per instance; see :mod:`engine.journal`."""

    __tablename__ = "journal_entry"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    seq: Mapped[int] = mapped_column(Integer)
    command: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict] = mapped_column(JSON)
    state_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("instance_id", "seq", name="uq_journal_instance_seq"),)


class OpenTask(Base):
    """Inbox projection: one row per ready human task, rebuilt by every command on its instance."""

    __tablename__ = "open_task"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    task_ref: Mapped[str] = mapped_column(String(200))
    bpmn_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    epci: Mapped[str | None] = mapped_column(String(20))
    campaign_code: Mapped[str] = mapped_column(String(40))
    assignee: Mapped[str | None] = mapped_column(String(120))  # fixed by the model (porteur, jury member)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    dossier_ref: Mapped[str] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        UniqueConstraint("instance_id", "task_ref", name="uq_open_task_ref"),
        # The inbox indexes (migration 0003): equality on the role (and EPCI for local roles), then
        # the inbox order ``due_at IS NULL, due_at, id``, so a page is read in order and the scan
        # stops at the page; then the columns the inbox filters on, so counts never read the table.
        Index(
            "ix_open_task_inbox_regional",
            "role", text("(due_at IS NULL)"), "due_at", "id", "epci", "assignee", "claimed_by", "bpmn_id",
        ),
        Index(
            "ix_open_task_inbox_local",
            "role", "epci", text("(due_at IS NULL)"), "due_at", "id", "assignee", "claimed_by", "bpmn_id",
        ),
        # Partial (migration 0005): most open tasks are neither assigned nor claimed, and a row
        # outside an index costs its writes nothing; ``assignee = :login`` implies the condition.
        Index("ix_open_task_assignee_due", "assignee", "due_at",
              sqlite_where=text("assignee IS NOT NULL"), postgresql_where=text("assignee IS NOT NULL")),
        Index("ix_open_task_claimed_due", "claimed_by", "due_at",
              sqlite_where=text("claimed_by IS NOT NULL"), postgresql_where=text("claimed_by IS NOT NULL")),
    )


class StepSpan(Base):
    """Analytics projection: one row per human step opened on a dossier, closed when it leaves the
    inbox. Written by every command next to the inbox rows (:mod:`engine.step_spans`), read by
    :mod:`engine.analytics`; durations are kept in seconds so that reading 10,000 dossiers' steps
    needs no date arithmetic in SQL.
    """

    __tablename__ = "step_span"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    task_ref: Mapped[str] = mapped_column(String(200))
    bpmn_id: Mapped[str] = mapped_column(String(120))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_seq: Mapped[int] = mapped_column(Integer)
    #: seconds from the dossier's previous step closing (or its start) to this opening
    before_s: Mapped[float] = mapped_column(Float)
    #: seconds from the dossier's previous step closing (or its start) to a person taking this step
    #: up (first claim or delegation, else its completion); None until then, or if nobody did
    waiting_s: Mapped[float | None] = mapped_column(Float)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_seq: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    #: True: completed by a person; False: closed otherwise (deadline, withdrawal, message)
    completed: Mapped[bool | None] = mapped_column()

    __table_args__ = (
        Index("ix_step_span_instance", "instance_id", "closed_seq"),
    )


class Timer(Base):
    """A pending timer event; the worker fires due ones as ``fire_timers`` commands."""

    __tablename__ = "timer"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    task_ref: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_timer_due", "due_at"), Index("ix_timer_instance", "instance_id"))


# --- web tables ---
# Accounts, drafts, attachments and notifications: what the web app needs besides the workflow.
# Owned by engine.accounts, engine.drafts, engine.attachments and engine.notifications_store.


class User(Base):
    """A person who logs in: argon2 password hash, roles, EPCI scope, failed-login counter."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(120), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    epci: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Copied into each session cookie at login; bumped by logout, a new password, deactivation or
    # a change of roles, so that every cookie issued before is refused server-side.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: the association a porteur registered for (self-service registration, 0011)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    #: registered but the e-mail address not yet verified: inactive, and a new link may be sent
    pending_verification: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    #: staff: one daily digest of their open tasks instead of an e-mail per task (0014, engine.digests)
    daily_digest: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class DigestSent(Base):
    """The daily digest of one account for one day (Europe/Paris): at most one, whatever the workers."""

    __tablename__ = "digest_sent"
    login: Mapped[str] = mapped_column(String(120), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: open tasks listed (0: nothing was open, no mail was queued)
    tasks: Mapped[int] = mapped_column(Integer)


class Organisation(Base):
    """An association that registered itself: its name, SIRET or RNA number and contact address."""

    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    #: a SIRET (14 digits) or an RNA number (W and 9 digits), checked for format at registration
    identifier: Mapped[str] = mapped_column(String(14))
    email: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserRole(Base):
    """One role a person holds, in one EPCI of their scope: ``user.roles``/``user.epci`` made indexable.

    Written by :mod:`engine.accounts` whenever an account's roles or scope change (migration 0009
    filled it from existing accounts). Each role gives one row with ``epci = ''`` (the role,
    whatever the scope: regional tasks) and one row per EPCI of the scope (local tasks), so the
    notifier finds the people for a task with one index range of ``(role, epci)``, whatever the
    number of accounts (see :mod:`engine.notifications_store`).
    """

    __tablename__ = "user_role"
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    epci: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_user_role_user", "user_id"),)


class LoginFailure(Base):
    """One failed login, counted by client and by (client, login) to throttle guessing.

    ``login_key`` is a hash of the login typed: people type passwords into the login field, and
    unknown logins are counted exactly like real ones, so the typed text is not kept.
    """

    __tablename__ = "login_failure"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(64))
    login_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (
        Index("ix_login_failure_client_login", "client", "login_key", "at"),
        Index("ix_login_failure_at", "at"),
    )


class ApiToken(Base):
    """A token for scripts: only its sha256 is stored; the clear token is shown once."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(default=False)


class Draft(Base):
    """Form data saved but not submitted, per person and open task."""

    __tablename__ = "task_draft"
    login: Mapped[str] = mapped_column(String(120), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), primary_key=True)
    task_ref: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Attachment(Base):
    """A file attached to a dossier; its content is a content-addressed ``blob`` row."""

    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blob.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("instance_id", "sha256", name="uq_attachment_instance_sha"),)


class Notification(Base):
    """An in-app notification for one person or for everyone holding a role (and EPCI)."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    login: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(40))
    epci: Mapped[str | None] = mapped_column(String(20))
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    task_ref: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_notification_login", "login", "created_at"),
        Index("ix_notification_role", "role", "epci", "created_at"),
    )


class OutboxEmail(Base):
    """An e-mail queued inside the command's transaction; sent by SMTP later, or shown in the outbox page."""

    __tablename__ = "outbox_email"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: sending attempts the server refused, its last answer, and when the message was set aside
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: not sent before this instant: back-off after a temporary refusal, or a sender's lease (0007)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Incident(Base):
    """A failure of model code on one dossier, kept outside the failed command's transaction.

    ``kind``: ``timer`` (the worker's pass: retried with back-off, set aside after a few
    attempts) or ``command`` (a person's command: the person tries again). At most one open
    (unresolved) incident per dossier and kind; see :mod:`engine.incidents`.
    """

    __tablename__ = "incident"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"))
    kind: Mapped[str] = mapped_column(String(20))
    bpmn_id: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str] = mapped_column(Text)
    #: the task data at the point of failure, as JSON text, cut to a bounded size
    data: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    set_aside_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # One open incident per dossier and kind; the timer worker's back-off check reads it.
        Index("ux_incident_open", "instance_id", "kind", unique=True,
              sqlite_where=text("resolved_at IS NULL"), postgresql_where=text("resolved_at IS NULL")),
        Index("ix_incident_seen", "last_seen_at"),
    )


class Seal(Base):
    """A signed Merkle root over every dossier's journal head (see :mod:`engine.seals`).

    ``header`` is the signed canonical JSON (sequence, instant, size, root, previous seal's hash,
    key fingerprint); ``leaves`` the canonical JSON of the sealed (instance, ref, seq, head)
    list the root is computed over. Rows are only appended; the exported log is what auditors
    keep outside the database, since whoever can write here could also delete seals.
    """

    __tablename__ = "seal"
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seal_hash: Mapped[str] = mapped_column(String(64), unique=True)
    header: Mapped[str] = mapped_column(Text)
    leaves: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(120))
    #: an RFC 3161 time-stamp token over ``seal_hash`` (base64 DER), when a service is configured
    timestamp_token: Mapped[str | None] = mapped_column(Text)


class ModelDraft(Base):
    """A process owner's draft of the model files, saved without deploying (:mod:`engine.model_drafts`).

    ``revision`` grows by one at every save; a save names the revision it started from, so two
    owners saving the same draft cannot overwrite each other silently.
    """

    __tablename__ = "model_draft"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModelDraftFile(Base):
    """One file of a model draft (``processes/x.bpmn``, ``forms/x.schema.json``...)."""

    __tablename__ = "model_draft_file"
    draft_name: Mapped[str] = mapped_column(ForeignKey("model_draft.name", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Jury(Base):
    """A standing jury (:mod:`engine.juries`): territorial (one EPCI's) or regional."""

    __tablename__ = "jury"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    epci: Mapped[str | None] = mapped_column(String(40), nullable=True, unique=True)
    libelle: Mapped[str] = mapped_column(String(200))
    quorum: Mapped[int] = mapped_column(Integer)


class JuryMember(Base):
    """One elected member's seat on a jury for a term (``term_end`` None: still sitting)."""

    __tablename__ = "jury_member"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    jury_code: Mapped[str] = mapped_column(ForeignKey("jury.code", ondelete="CASCADE"), index=True)
    login: Mapped[str] = mapped_column(String(120))
    full_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    epci: Mapped[str | None] = mapped_column(String(40), nullable=True)
    president: Mapped[bool] = mapped_column(default=False)
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date, nullable=True)


class JurySession(Base):
    """A jury's sitting for a campaign: its date and quorum; its members are those in term then."""

    __tablename__ = "jury_session"
    __table_args__ = (UniqueConstraint("jury_code", "campaign_code", name="uq_jury_session_campaign"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    jury_code: Mapped[str] = mapped_column(ForeignKey("jury.code", ondelete="CASCADE"))
    campaign_code: Mapped[str] = mapped_column(ForeignKey("campaign.code", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    quorum: Mapped[int] = mapped_column(Integer)
    #: set once the session is impossible ("declaree" or "quorum"): later dossiers go regional too
    impossible_cause: Mapped[str | None] = mapped_column(String(20))
    impossible_motif: Mapped[str | None] = mapped_column(Text)


class HistoryCheck(Base):
    """A test against history run in the background (:mod:`engine.history_check_jobs`): its
    progress, its divergent dossiers (at most a bounded number kept) and whether it was cancelled."""

    __tablename__ = "history_check"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(120))  # "draft:NAME" or "version:N"
    started_by: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # running, done, cancelled, failed
    total: Mapped[int] = mapped_column(Integer)
    checked: Mapped[int] = mapped_column(Integer, default=0)
    same: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    diverged: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
