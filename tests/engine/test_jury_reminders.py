"""Jury tasks are due when their session opens (the session date of the dossier's journaled jury
snapshot, 9:00 Paris) and are reminded once, REMINDER_DAYS before, by the worker's pass: an
in-app notification and a mail through the outbox (engine.jury_reminders)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine import AccountService
from engine.jury_admin import JuryAdmin
from engine.jury_reminders import REMINDER_DAYS, JuryReminders
from engine.persistence.models import Notification, OpenTask, OutboxEmail
from tests.factories import CAMPAIGN

PARIS = ZoneInfo("Europe/Paris")


def _session_day(engine, jury_code: str):
    _row, _seats, sessions = JuryAdmin(engine.db).jury(jury_code)
    return next(s.day for s in sessions if s.campaign_code == CAMPAIGN)


def _jury_rows(engine):
    with engine.db.engine.connect() as connection:
        return connection.execute(select(OpenTask.bpmn_id, OpenTask.assignee, OpenTask.due_at)
                                  .where(OpenTask.bpmn_id.like("examen_%"))).all()


def test_jury_tasks_are_due_when_their_session_opens(walker, engine):
    iid = walker.start()
    walker.to_jury(iid, epci="CAB")
    day = _session_day(engine, "TERR-CAB")
    opening = datetime(day.year, day.month, day.day, 9, tzinfo=PARIS).astimezone(UTC)
    rows = _jury_rows(engine)
    assert len(rows) == 4 and {row.due_at for row in rows} == {opening}
    assert {row.bpmn_id for row in rows} == {"examen_territorial"}
    # the regional jury's tasks, after a fallback, are due at the regional session
    other = walker.start()
    walker.to_jury(other, epci="CAAC")
    regional = _session_day(engine, "REGIONAL")
    with engine.db.engine.connect() as connection:
        dues = set(connection.execute(select(OpenTask.due_at).where(OpenTask.instance_id == other)).scalars())
    assert dues == {datetime(regional.year, regional.month, regional.day, 9, tzinfo=PARIS).astimezone(UTC)}


def test_reminder_once_before_the_session(walker, engine, clock):
    accounts = AccountService(engine.db, clock)
    accounts.create("jury.cab.elu1", "un mot de passe assez long", roles=["membre_jury_territorial"],
                    epci=["CAB"], full_name="Élu du Boulonnais 1", email="elu1@cab.example")
    iid = walker.start()
    walker.to_jury(iid, epci="CAB")
    reminders = JuryReminders(engine.db, clock, task_link="https://dsdt.example/t/{instance_id}/{task_ref}")
    opening = next(iter({row.due_at for row in _jury_rows(engine)}))
    clock.set(opening - timedelta(days=REMINDER_DAYS + 1))
    assert reminders.send_due().reminded == 0  # too early
    clock.set(opening - timedelta(days=REMINDER_DAYS - 1))
    report = reminders.send_due()
    assert report.reminded == 4 and report.mailed == 1  # one member has an account with an address
    assert reminders.send_due().reminded == 0  # idempotent
    with engine.db.engine.connect() as connection:
        notes = connection.execute(select(Notification.login, Notification.message)
                                   .where(Notification.message.like("Rappel%"))).all()
        mails = connection.execute(select(OutboxEmail.recipient, OutboxEmail.body)
                                   .where(OutboxEmail.subject.like("%Rappel%"))).all()
    assert sorted(n.login for n in notes) == ["jury.cab.elu1", "jury.cab.elu2", "jury.cab.president",
                                              "jury.region.elu1"]
    assert all(opening.date().isoformat() in n.message for n in notes)
    assert [m.recipient for m in mails] == ["elu1@cab.example"]
    assert f"https://dsdt.example/t/{iid}/" in mails[0].body
    clock.set(opening + timedelta(hours=1))
    assert reminders.send_due().reminded == 0  # past the session: not reminded any more
