"""Reminders of jury tasks before their session: a notification and a mail, once per task.

A jury task is due when its session opens (:func:`engine.inbox.session_due`: the session date of
the dossier's journaled jury snapshot). :data:`REMINDER_DAYS` before, the worker's pass
(:meth:`JuryReminders.send_due`, one of its jobs) tells the member the task is assigned to: an
in-app notification whose message starts with :data:`PREFIX`, and a mail through the outbox
unless they chose the daily digest (the digest lists the task with its due date). The
notification is the record that the reminder was sent: a task with one is not reminded again,
so passes may run as often as they like, on any number of workers (each reminder is written in
the transaction that checks for it, which locks the task's inbox row on PostgreSQL: another
worker skips it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import and_, insert, select

from .inbox import JURY_ROLES
from .notifications_store import one_line, queue_email
from .persistence.models import Notification, OpenTask, User

#: how long before its session a jury task is reminded
REMINDER_DAYS = 3
#: the reminder notifications' message start (what marks a task as reminded)
PREFIX = "Rappel"
#: most reminders written by one pass (the next pass writes the rest)
BATCH = 500


@dataclass(frozen=True)
class ReminderReport:
    reminded: int  # tasks reminded by this pass
    mailed: int  # mails queued


class JuryReminders:
    """The reminders of jury tasks whose session is near, over one database and clock."""

    def __init__(self, db, clock, days: int = REMINDER_DAYS, task_link: str | None = None):
        self.db = db
        self.clock = clock
        self.window = timedelta(days=days)
        self.task_link = task_link  # the task page's address with {instance_id} and {task_ref}

    def send_due(self, limit: int = BATCH) -> ReminderReport:
        """Remind every open jury task assigned to a member whose session opens within the window
        and that has no reminder yet; returns what was written."""
        now = self.clock.now()
        reminded = mailed = 0
        reminders = select(Notification.id).where(
            Notification.instance_id == OpenTask.instance_id, Notification.task_ref == OpenTask.task_ref,
            Notification.login == OpenTask.assignee, Notification.message.like(f"{PREFIX}%"))
        query = (select(OpenTask.instance_id, OpenTask.task_ref, OpenTask.name, OpenTask.assignee,
                        OpenTask.due_at, OpenTask.dossier_ref, OpenTask.title)
                 .where(OpenTask.role.in_(sorted(JURY_ROLES)), OpenTask.assignee.is_not(None),
                        and_(OpenTask.due_at > now, OpenTask.due_at <= now + self.window),
                        ~reminders.exists())
                 .order_by(OpenTask.due_at, OpenTask.id).limit(limit)
                 .with_for_update(of=OpenTask, skip_locked=True))
        with self.db.engine.begin() as connection:
            rows = connection.execute(query).all()
            logins = sorted({row.assignee for row in rows})
            people = {row.login: row for row in connection.execute(
                select(User.login, User.full_name, User.email, User.daily_digest)
                .where(User.login.in_(logins), User.active.is_(True)))} if logins else {}
            for row in rows:
                day = row.due_at.date().isoformat()
                message = f"{PREFIX} : « {row.name} » sur le dossier {row.dossier_ref}, session du jury le {day}"
                connection.execute(insert(Notification).values(
                    login=row.assignee, role=None, epci=None, instance_id=row.instance_id,
                    task_ref=row.task_ref, message=message, created_at=now))
                reminded += 1
                person = people.get(row.assignee)
                if person is not None and person.email and not person.daily_digest:
                    body = (f"Bonjour {person.full_name or person.login},\n\n{message}.\n"
                            + self._where(row.instance_id, row.task_ref))
                    queue_email(connection, person.email, one_line(f"[DSDT] {message}"), body, now)
                    mailed += 1
        return ReminderReport(reminded, mailed)

    def _where(self, instance_id: int, task_ref: str) -> str:
        if self.task_link is None:
            return "Connectez-vous à l’application DSDT pour évaluer le dossier avant la session.\n"
        return ("Pour l’évaluer avant la session, ouvrez cette page (après connexion) :\n"
                + self.task_link.format(instance_id=instance_id, task_ref=quote(task_ref, safe="/:.-_~")) + "\n")
