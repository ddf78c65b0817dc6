"""The administration pages: the e-mail outbox shows what the mail server refused."""

from __future__ import annotations

from engine.persistence.models import OutboxEmail

from .conftest import NOW


def test_the_outbox_shows_refused_messages_with_the_servers_answer(client, auth, services):
    with services.engine.db.sessions.begin() as session:
        session.add(OutboxEmail(recipient="nobody@cab.example.org", subject="[DSDT] refusé", body="Bonjour",
                                created_at=NOW, attempts=1, last_error="(550, b'5.1.1 no such user')",
                                failed_at=NOW))
        session.add(OutboxEmail(recipient="full@cavm.example.org", subject="[DSDT] plus tard", body="Bonjour",
                                created_at=NOW, attempts=2, last_error="(452, b'4.2.2 mailbox full')"))
    auth.login("admin")
    page = client.get("/admin/courriels").get_data(as_text=True)
    assert "Refusé par le serveur de messagerie" in page and "no such user" in page
    assert "2 envoi(s) refusé(s), nouvel essai au prochain passage" in page and "mailbox full" in page
