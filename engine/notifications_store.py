"""Notifications kept in the database: in-app rows and an e-mail outbox.

:class:`StoredNotifier` is the :class:`~engine.notifications.Notifier` of the web app. Inside the
command's transaction it writes one ``notification`` row per opened task (for its assignee, or
for everyone holding its role within the dossier's EPCI) and queues one ``outbox_email`` per
person concerned who has an address. Nothing leaves the machine inside a transaction:
:meth:`NotificationCenter.send_pending` sends the outbox by SMTP when it is configured; otherwise
the outbox stays readable in the app (the embedded default).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import Connection, and_, insert, or_, select

from .commands import Actor
from .persistence.models import Notification, OutboxEmail, User
from .roles import REGIONAL_ROLES


def _mailable(connection: Connection) -> list:
    """Active people with an e-mail address (login, full_name, email, roles, epci)."""
    return connection.execute(
        select(User.login, User.full_name, User.email, User.roles, User.epci).where(
            User.active.is_(True), User.email != ""
        )
    ).all()


def _recipients(users: list, task, epci: str | None) -> list:
    if task.assignee is not None:
        return [user for user in users if user.login == task.assignee]
    local = task.role not in REGIONAL_ROLES
    return [user for user in users if task.role in (user.roles or ()) and (not local or epci in (user.epci or ()))]


#: attempts before a message the server keeps refusing (with 4xx answers) is set aside
MAX_ATTEMPTS = 5
#: refusals of one message, not of the connection: the next messages can still be sent
_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def _permanent(refusal: smtplib.SMTPException) -> bool:
    """A 5xx answer: sending the same message again would be refused again."""
    if isinstance(refusal, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in refusal.recipients.values()]
    else:
        codes = [getattr(refusal, "smtp_code", 0)]
    return bool(codes) and all(code >= 500 for code in codes)


class StoredNotifier:
    """Writes notification rows and queued e-mails for every task that opens."""

    def tasks_opened(self, connection: Connection, instance, tasks: list, now: datetime) -> None:
        users = _mailable(connection)  # once per command, not once per opened task
        notifications, emails = [], []
        for task in tasks:
            message = f"Nouvelle étape « {task.name} » sur le dossier {instance.ref}"
            if instance.title:
                message += f" ({instance.title})"
            local = task.role not in REGIONAL_ROLES
            notifications.append({
                "login": task.assignee,
                "role": None if task.assignee else task.role,
                "epci": instance.epci if local and not task.assignee else None,
                "instance_id": instance.id,
                "task_ref": task.ref,
                "message": message,
                "created_at": now,
            })
            emails += [
                {
                    "recipient": user.email,
                    "subject": f"[DSDT] {message}",
                    "body": (
                        f"Bonjour {user.full_name or user.login},\n\n{message}.\n"
                        f"Connectez-vous à l'application DSDT pour la traiter "
                        f"(dossier {instance.ref}, étape {task.bpmn_id}).\n"
                    ),
                    "created_at": now,
                }
                for user in _recipients(users, task, instance.epci)
            ]
        if notifications:
            connection.execute(insert(Notification), notifications)
        if emails:
            connection.execute(insert(OutboxEmail), emails)


@dataclass(frozen=True)
class NotificationRow:
    id: int
    instance_id: int
    task_ref: str
    message: str
    created_at: datetime


@dataclass(frozen=True)
class EmailRow:
    id: int
    recipient: str
    subject: str
    body: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int = 0
    last_error: str | None = None
    failed_at: datetime | None = None


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "dsdt@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False


class NotificationCenter:
    """Reads notifications and the outbox; sends queued e-mails when SMTP is configured."""

    def __init__(self, db, clock, smtp: SmtpSettings | None = None):
        self.db = db
        self.clock = clock
        self.smtp = smtp

    def for_actor(self, actor: Actor, limit: int = 20) -> list[NotificationRow]:
        regional = [role for role in actor.roles if role in REGIONAL_ROLES]
        local = [role for role in actor.roles if role not in REGIONAL_ROLES]
        mine = [Notification.login == actor.login]
        if regional:
            mine.append(and_(Notification.role.in_(regional), Notification.login.is_(None)))
        if local and actor.epci:
            mine.append(and_(Notification.role.in_(local), Notification.epci.in_(sorted(actor.epci))))
        with self.db.sessions() as session:
            query = select(Notification).where(or_(*mine))
            rows = session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit))
            return [NotificationRow(r.id, r.instance_id, r.task_ref, r.message, r.created_at) for r in rows]

    def outbox(self, limit: int = 100) -> list[EmailRow]:
        with self.db.sessions() as session:
            rows = session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit))
            return [EmailRow(r.id, r.recipient, r.subject, r.body, r.created_at, r.sent_at, r.attempts, r.last_error,
                             r.failed_at) for r in rows]

    def send_pending(self, limit: int = 100) -> int:
        """Send queued e-mails by SMTP (no-op without settings); returns how many were sent.

        A message the server refuses (its recipient, sender or content) records the attempt and
        the answer, and is set aside for good on a permanent (5xx) refusal or after
        ``MAX_ATTEMPTS``: the messages after it are still sent. A connection that fails stops
        the pass; what was sent is committed, and the next pass goes on from there.
        """
        if self.smtp is None:
            return 0
        sent = refused = 0
        failure: Exception | None = None
        with self.db.sessions.begin() as session:
            rows = session.scalars(
                select(OutboxEmail).where(OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None))
                .order_by(OutboxEmail.id).limit(limit)
            ).all()
            if not rows:
                return 0
            try:
                with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=30) as client:
                    if self.smtp.starttls:
                        client.starttls()
                    if self.smtp.username:
                        client.login(self.smtp.username, self.smtp.password or "")
                    for row in rows:
                        mail = EmailMessage()
                        mail["From"], mail["To"], mail["Subject"] = self.smtp.sender, row.recipient, row.subject
                        mail.set_content(row.body)
                        try:
                            client.send_message(mail)
                        except _REFUSED as refusal:
                            self._refused(row, refusal)
                            refused += 1
                            continue
                        row.sent_at = self.clock.now()
                        sent += 1
            except (smtplib.SMTPException, OSError) as exc:
                if not sent and not refused:
                    raise
                failure = exc  # commit what was sent (never twice) and the refusals recorded
        if failure is not None:
            raise failure
        return sent

    def _refused(self, row: OutboxEmail, refusal: smtplib.SMTPException) -> None:
        row.attempts += 1
        row.last_error = str(refusal)[:1000]
        if _permanent(refusal) or row.attempts >= MAX_ATTEMPTS:
            row.failed_at = self.clock.now()
