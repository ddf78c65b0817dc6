"""Daily digests: the profile's choice, no per-task mail for who chose it, one digest a day (engine.Digests)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine import FixedClock
from engine.persistence.models import DigestSent, OutboxEmail
from webapp.cli import main

from .conftest import csrf_token

WHO = "instructeur2"
ADDRESS = f"{WHO}@demo.dsdt.example"
OTHER = "instructeur1@demo.dsdt.example"


def mails(services, recipient: str) -> list[OutboxEmail]:
    with services.engine.db.sessions() as session:
        return list(session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == recipient)
                                    .order_by(OutboxEmail.id)))


@pytest.fixture
def digest_chosen(services):
    services.digests.set_preference(WHO, True)
    yield
    services.digests.set_preference(WHO, False)


def test_the_profile_page_sets_the_choice(auth, client, services):
    auth.login(WHO)
    page = client.get("/profil/").get_data(as_text=True)
    assert "Recevoir un résumé quotidien au lieu d’un courriel par tâche" in page
    assert 'id="digest-each" name="digest" value="chaque" checked' in page
    try:
        done = client.post("/profil/", data={"digest": "quotidien", "csrf_token": csrf_token(page)})
        assert done.status_code == 302 and services.digests.wants(WHO)
        page = client.get("/profil/").get_data(as_text=True)
        assert 'value="quotidien" checked' in page
        assert client.post("/profil/", data={"digest": "quotidien"}).status_code == 400  # no CSRF token
    finally:
        services.digests.set_preference(WHO, False)
    auth.logout()
    auth.login("porteur1")  # a porteur has no task mails to choose about
    page = client.get("/profil/").get_data(as_text=True)
    assert "résumé quotidien" not in page
    client.post("/profil/", data={"digest": "quotidien", "csrf_token": csrf_token(page)})
    assert not services.digests.wants("porteur1")


def test_no_mail_per_task_for_who_chose_the_digest(services, make_dossier, digest_chosen):
    mine, colleague = len(mails(services, ADDRESS)), len(mails(services, OTHER))
    make_dossier("recevabilite")  # opens the recevabilité to every instructeur
    assert len(mails(services, OTHER)) == colleague + 1
    assert len(mails(services, ADDRESS)) == mine


def test_one_digest_a_day_listing_the_open_tasks_overdue_first(services, make_dossier, digest_chosen):
    make_dossier("recevabilite")  # at least one task open to the instructeurs
    today = services.digests.today()
    with services.engine.db.sessions() as session:
        assert not session.scalar(select(func.count()).select_from(DigestSent)
                                  .where(DigestSent.login == WHO, DigestSent.day == today))
    before = len(mails(services, ADDRESS))
    report = services.digests.send_due()
    assert report.day == today and report.sent >= 1
    digest = mails(services, ADDRESS)[before:]
    assert len(digest) == 1
    body = digest[0].body
    assert digest[0].subject.startswith("[DSDT] Vos tâches ouvertes au ")
    assert "Examiner la recevabilité" in body and "[EN RETARD]" in body  # the demo has an overdue one
    assert "/dossiers/" in body and "/etape/" in body  # each task with its link
    lines = [line for line in body.splitlines() if line.startswith("- ")]
    late = [n for n, line in enumerate(lines) if "[EN RETARD]" in line]
    assert late == list(range(len(late)))  # overdue ones first
    assert services.digests.send_due().sent == 0  # idempotent for the day
    assert len(mails(services, ADDRESS)) == before + 1


def test_nothing_before_seven_in_paris_unless_forced(services, engine):
    from engine import Digests

    now = engine.clock.now()
    early = FixedClock(now.replace(hour=4, minute=0) + timedelta(days=400))  # 5:00 in Paris (winter)
    digests = Digests(services.engine.db, early, "http://x/{instance_id}/{task_ref}")
    digests.set_preference(WHO, True)
    try:
        assert digests.send_due().sent == 0
        forced = digests.send_due(force=True)
        assert forced.sent == 1 and digests.send_due(force=True).sent == 0
    finally:
        digests.set_preference(WHO, False)


def test_dsdt_digest_command_is_idempotent(services, engine):
    url = str(engine.db.engine.url)
    services.digests.set_preference(WHO, True)
    try:
        first = CliRunner().invoke(main, ["digest", "--database", url])
        assert first.exit_code == 0, first.output
        assert "digest(s) queued" in first.output
        second = CliRunner().invoke(main, ["digest", "--database", url])
        assert second.exit_code == 0 and ": 0 digest(s) queued" in second.output
    finally:
        services.digests.set_preference(WHO, False)
