"""Daily digests: one e-mail a day listing a staff member's open tasks, instead of one per task.

A staff member sets the preference on their profile (:meth:`Digests.set_preference`); the
notifier then queues no per-task e-mail for them (:mod:`engine.notifications_store` reads the
flag with the recipients). The timer worker calls :meth:`Digests.send_due` after each pass (and
``dsdt digest`` calls it at once): from :data:`SEND_HOUR` o'clock, Europe/Paris, each such
account gets one mail for the day listing its open tasks (its inbox: overdue ones first, then
the soonest due), each with its due date and the link to its page. The row of ``digest_sent``
for (login, day), inserted in the transaction that queues the mail, makes it once a day
whatever the number of workers; a day with nothing open records the row and queues nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from . import inbox
from .commands import Actor
from .errors import NotFound
from .notifications_store import queue_email
from .persistence.models import DigestSent, Instance, User
from .roles import PORTEUR

PARIS = ZoneInfo("Europe/Paris")
#: the hour (Europe/Paris) from which the day's digests are sent
SEND_HOUR = 7
#: tasks listed in one mail at most (the mail then says how many more the inbox holds)
MAX_LISTED = 50
#: accounts handled in one pass at most (the next pass goes on)
BATCH = 200


@dataclass(frozen=True)
class DigestReport:
    day: date
    sent: int  # mails queued
    empty: int  # accounts with nothing open (no mail)


class Digests:
    """The daily-digest preference of accounts, and the sending of the day's digests."""

    def __init__(self, db, clock, task_link: str | None = None):
        self.db = db
        self.clock = clock
        self.task_link = task_link  # the task page's address with {instance_id} and {task_ref}

    def wants(self, login: str) -> bool:
        with self.db.sessions() as session:
            return bool(session.scalar(select(User.daily_digest).where(User.login == login)))

    def set_preference(self, login: str, daily: bool) -> None:
        """Choose one digest a day (``daily``) or an e-mail per task for ``login``."""
        with self.db.sessions.begin() as session:
            if session.execute(update(User).where(User.login == login).values(daily_digest=daily)).rowcount != 1:
                raise NotFound(f"The account {login} does not exist.", code="account.not_found",
                               params={"login": login})

    def today(self) -> date:
        return self.clock.now().astimezone(PARIS).date()

    def send_due(self, force: bool = False) -> DigestReport:
        """Queue today's digest of every account that chose it and has none yet.

        Before :data:`SEND_HOUR` (Paris) nothing is sent unless ``force`` (``dsdt digest``).
        """
        now = self.clock.now()
        day = now.astimezone(PARIS).date()
        if not force and now.astimezone(PARIS).hour < SEND_HOUR:
            return DigestReport(day, 0, 0)
        with self.db.sessions() as session:
            people = session.scalars(
                select(User)
                .outerjoin(DigestSent, and_(DigestSent.login == User.login, DigestSent.day == day))
                .where(User.daily_digest.is_(True), User.active.is_(True), User.email != "",
                       DigestSent.login.is_(None))
                .order_by(User.id).limit(BATCH)
            ).all()
            wanted = [(p.login, p.full_name, p.email, frozenset(p.roles or ()), frozenset(p.epci or ()))
                      for p in people]
        sent = empty = 0
        for login, full_name, email, roles, epci in wanted:
            outcome = self._send_one(Actor(login, roles - {PORTEUR}, epci), full_name, email, day, now)
            sent += outcome == "sent"
            empty += outcome == "empty"
        return DigestReport(day, sent, empty)

    def _send_one(self, actor: Actor, full_name: str, email: str, day: date, now: datetime) -> str:
        with self.db.sessions() as session:
            rows, total = inbox.inbox(session, actor, inbox.InboxFilter(per_page=MAX_LISTED))
            refs = {row.instance_id for row in rows}
            titles = dict(session.execute(select(Instance.id, Instance.title).where(Instance.id.in_(refs))).all())
            tasks = [(row.instance_id, row.task_ref, row.name, row.dossier_ref, titles.get(row.instance_id),
                      row.due_at) for row in rows]
        try:
            with self.db.engine.begin() as connection:
                connection.execute(DigestSent.__table__.insert().values(
                    login=actor.login, day=day, sent_at=now, tasks=total))
                if total:
                    subject, body = self.message(full_name or actor.login, tasks, total, day, now)
                    queue_email(connection, email, subject, body, now)
        except IntegrityError:
            return "done"  # another worker sent it
        return "sent" if total else "empty"

    def message(self, name: str, tasks: list, total: int, day: date, now: datetime) -> tuple[str, str]:
        """The subject and body of a digest (French, as every mail; overdue first, as the inbox sorts)."""
        subject = f"[DSDT] Vos tâches ouvertes au {_long_day(day)} : {total}"
        late = sum(1 for task in tasks if task[5] is not None and task[5] < now)
        lines = [f"Bonjour {name},", "",
                 f"Voici vos {total} tâche{'s' if total > 1 else ''} ouverte{'s' if total > 1 else ''} "
                 f"dans l’application DSDT, dont {late} en retard, les plus urgentes d’abord.", ""]
        for instance_id, task_ref, step, ref, title, due_at in tasks:
            head = "[EN RETARD] " if due_at is not None and due_at < now else ""
            due = f"échéance le {_long_when(due_at)}" if due_at else "sans échéance"
            lines.append(f"- {head}{step} — dossier {ref}{f' ({title})' if title else ''} — {due}")
            if self.task_link:
                lines.append("  " + self.task_link.format(instance_id=instance_id,
                                                          task_ref=quote(task_ref, safe="/:.-_~")))
        if total > len(tasks):
            lines.append(f"… et {total - len(tasks)} autres : voyez votre corbeille de tâches.")
        lines += ["", "Vous recevez ce résumé une fois par jour au lieu d’un courriel par tâche ; "
                      "changez ce choix sur votre page de profil."]
        return subject, "\n".join(lines) + "\n"


def _long_day(day: date) -> str:
    return format_datetime(datetime(day.year, day.month, day.day, 12, tzinfo=PARIS), "d MMMM y", locale="fr")


def _long_when(instant: datetime) -> str:
    return format_datetime(instant, "d MMMM y 'à' HH:mm", tzinfo=PARIS, locale="fr")
