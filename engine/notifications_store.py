"""Notifications kept in the database: in-app rows and an e-mail outbox.

:class:`StoredNotifier` is the :class:`~engine.notifications.Notifier` of the web app. Inside the
command's transaction it writes one ``notification`` row per opened task (for its assignee, or
for everyone holding its role within the dossier's EPCI) and queues one ``outbox_email`` per
person concerned who has an address. Nothing leaves the machine inside a transaction:
:meth:`NotificationCenter.send_pending` sends the outbox by SMTP when it is configured; otherwise
the outbox stays readable in the app (the embedded default).

Who is told is read by :mod:`engine.recipients`: indexed rows, as many as the people told,
whatever the number of accounts.
"""

from __future__ import annotations

import logging
import smtplib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import quote

from sqlalchemy import Connection, and_, or_, select, update

from .commands import Actor
from .errors import MailFailed
from .persistence.models import Notification, OutboxEmail
from .persistence.raw import RawStatement
from .recipients import for_tasks
from .roles import REGIONAL_ROLES

log = logging.getLogger(__name__)


_NOTIFIED = ("login", "role", "epci", "instance_id", "task_ref", "message", "created_at")
_QUEUED = ("recipient", "subject", "body", "created_at", "attempts", "last_error", "failed_at")


def _insert(table, columns: tuple[str, ...]) -> RawStatement:
    return RawStatement(f"INSERT INTO {table.name} ({', '.join(columns)}) "
                        f"VALUES ({', '.join(':' + name for name in columns)})",
                        {name: table.c[name] for name in columns})


# Hand-written (engine.persistence.raw): they run in every command that opens a task.
_NOTIFY = _insert(Notification.__table__, _NOTIFIED)
_QUEUE = _insert(OutboxEmail.__table__, _QUEUED)


#: attempts before a message the server keeps refusing (with 4xx answers) is set aside
MAX_ATTEMPTS = 5
#: the wait after a message's first failed attempt, doubled after each one
FIRST_DELAY = timedelta(minutes=5)
#: how long a sender holds a message it is sending (another worker leaves it alone meanwhile)
LEASE = timedelta(minutes=10)
#: line separators besides the control characters: ``str.splitlines`` and the e-mail parser split on them
_LINE_SEPARATORS = frozenset("\u2028\u2029")
#: refusals of one message, not of the connection: the next messages can still be sent
_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def header_problem(recipient: str, subject: str) -> str | None:
    """Why a message's headers cannot be sent as they are, or None.

    A line break in a header would let its text add headers of its own (``Bcc:``...): refused
    when the message is queued and again when it is sent, never repaired silently.
    """
    for name, value in (("address", recipient), ("subject", subject)):
        if any(unicodedata.category(char) == "Cc" or char in _LINE_SEPARATORS for char in value):
            return f"The {name} contains a line break or control character: {value!r:.200}. Correct it; it is not sent."
    return None


def one_line(text: str) -> str:
    """``text`` with its line breaks and control characters turned into spaces (for a subject)."""
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" or c in _LINE_SEPARATORS else c
                            for c in text).split())


def _permanent(refusal: smtplib.SMTPException) -> bool:
    """A 5xx answer: sending the same message again would be refused again."""
    if isinstance(refusal, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in refusal.recipients.values()]
    else:
        codes = [getattr(refusal, "smtp_code", 0)]
    return bool(codes) and all(code >= 500 for code in codes)


def _email_row(recipient: str, subject: str, body: str, now: datetime) -> dict:
    """An outbox row, set aside at once when its headers cannot be sent (so the outbox page shows
    whose address to correct)."""
    problem = header_problem(recipient, subject)
    return {"recipient": recipient, "subject": subject, "body": body, "created_at": now, "attempts": 0,
            "last_error": problem, "failed_at": now if problem else None}


def queue_email(connection: Connection, recipient: str, subject: str, body: str, now: datetime) -> None:
    """Queue one e-mail in the caller's transaction (set aside at once if its headers cannot be sent)."""
    _QUEUE.execute_many(connection, [_email_row(recipient, subject, body, now)])


class StoredNotifier:
    """Writes notification rows and queued e-mails for every task that opens.

    ``task_link`` is the address of a task's page with ``{instance_id}`` and ``{task_ref}`` in
    it: the web layer knows its routes and public address, the engine does not. Without it a mail
    says to log in to the application.
    """

    def __init__(self, task_link: str | None = None):
        self.task_link = task_link

    def _where(self, instance, task) -> str:
        if self.task_link is None:
            return "Connectez-vous à l’application DSDT pour la traiter.\n"
        link = self.task_link.format(instance_id=instance.id, task_ref=quote(task.ref, safe="/:.-_~"))
        return f"Pour la traiter, ouvrez cette page (après connexion) :\n{link}\n"

    def tasks_opened(self, connection: Connection, instance, tasks: list, now: datetime) -> None:
        recipients = for_tasks(connection, instance.epci, tasks)
        notifications, emails = [], []
        for task, people in zip(tasks, recipients, strict=True):
            message = f"Nouvelle étape « {task.name} » sur le dossier {instance.ref}"
            if instance.title:
                message += f" ({instance.title})"
            # The title is what the porteur typed: one line, so it cannot add e-mail headers.
            subject = one_line(f"[DSDT] {message}")
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
                _email_row(user.email, subject,
                           f"Bonjour {user.full_name or user.login},\n\n{message}.\n{self._where(instance, task)}", now)
                for user in people
                if not user.daily_digest  # they get the day's digest instead (engine.digests)
            ]
        if notifications:
            _NOTIFY.execute_many(connection, notifications)
        if emails:
            _QUEUE.execute_many(connection, emails)


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
    next_attempt_at: datetime | None = None


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
                             r.failed_at, r.next_attempt_at) for r in rows]

    def send_pending(self, limit: int = 100) -> int:
        """Send queued e-mails by SMTP (no-op without settings); returns how many were sent.

        Each message is taken (a short lease), sent and marked in transactions of its own, so a
        failure never rolls back, re-sends or blocks another. A message that cannot be sent (its
        headers, its address, a refusal by the server, anything it raises) records the attempt
        and the error and waits for a back-off; it is set aside for good at once when nothing can
        change (a line break in a header, a 5xx answer), else after ``MAX_ATTEMPTS``. A connection
        that fails stops the pass (:class:`~engine.errors.MailFailed`); what was sent stays sent.
        """
        if self.smtp is None:
            return 0
        now = self.clock.now()
        with self.db.engine.connect() as connection:
            rows = connection.execute(
                select(OutboxEmail.id, OutboxEmail.recipient, OutboxEmail.subject, OutboxEmail.body)
                .where(*_due(now)).order_by(OutboxEmail.id).limit(limit)
            ).all()
        if not rows:
            return 0
        sent = 0
        try:
            with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=30) as client:
                if self.smtp.starttls:
                    client.starttls()
                if self.smtp.username:
                    client.login(self.smtp.username, self.smtp.password or "")
                for row in rows:
                    sent += self._send_one(client, row)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, smtplib.SMTPHeloError,
                smtplib.SMTPAuthenticationError, OSError) as exc:
            raise MailFailed(f"The mail server {self.smtp.host}:{self.smtp.port} failed ({exc}); {sent} "
                             "message(s) sent, the others are sent on the next pass") from exc
        return sent

    def _send_one(self, client: smtplib.SMTP, row) -> int:
        """Send one message (1) or record why it was not (0); a lost connection propagates."""
        problem = header_problem(row.recipient, row.subject)
        if problem:
            self._failed(row.id, problem, permanent=True)
            return 0
        if not self._lease(row.id):
            return 0  # another worker is sending it
        try:
            mail = EmailMessage()
            mail["From"], mail["To"], mail["Subject"] = self.smtp.sender, row.recipient, row.subject
            mail.set_content(row.body)
            client.send_message(mail)
        except _REFUSED as refusal:
            self._failed(row.id, str(refusal), permanent=_permanent(refusal))
            return 0
        except smtplib.SMTPServerDisconnected:
            self._release(row.id)  # the connection, not the message: sent again on the next pass
            raise
        except smtplib.SMTPException as exc:  # (an OSError too) an answer about this message only
            self._failed(row.id, f"{type(exc).__name__}: {exc}", permanent=False)
            return 0
        except OSError:  # the socket: timeout, reset
            self._release(row.id)
            raise
        except Exception as exc:  # this message only (its encoding, say): recorded, the pass goes on
            self._failed(row.id, f"{type(exc).__name__}: {exc}", permanent=False)
            return 0
        with self.db.engine.begin() as connection:
            connection.execute(update(OutboxEmail).where(OutboxEmail.id == row.id)
                               .values(sent_at=self.clock.now(), next_attempt_at=None))
        return 1

    def _lease(self, email_id: int) -> bool:
        """Take the message for :data:`LEASE` if it is still due; False if someone else has it."""
        now = self.clock.now()
        with self.db.engine.begin() as connection:
            return connection.execute(update(OutboxEmail).where(OutboxEmail.id == email_id, *_due(now))
                                      .values(next_attempt_at=now + LEASE)).rowcount == 1

    def _release(self, email_id: int) -> None:
        with self.db.engine.begin() as connection:
            connection.execute(update(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.sent_at.is_(None))
                               .values(next_attempt_at=None))

    def _failed(self, email_id: int, error: str, permanent: bool) -> None:
        """Record a failed attempt on the message, in its own transaction: back-off, or set aside."""
        now = self.clock.now()
        log.warning("e-mail %s not sent: %s", email_id, error)
        with self.db.engine.begin() as connection:
            attempts = connection.execute(select(OutboxEmail.attempts).where(OutboxEmail.id == email_id)).scalar_one()
            attempts += 1
            set_aside = permanent or attempts >= MAX_ATTEMPTS
            connection.execute(update(OutboxEmail).where(OutboxEmail.id == email_id).values(
                attempts=attempts, last_error=error[:1000], failed_at=now if set_aside else None,
                next_attempt_at=None if set_aside else now + FIRST_DELAY * 2 ** (attempts - 1)))


def _due(now: datetime) -> tuple:
    """Conditions of a message to send now: not sent, not set aside, not waiting (back-off, lease)."""
    return (OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None),
            or_(OutboxEmail.next_attempt_at.is_(None), OutboxEmail.next_attempt_at <= now))
