"""engine.registration on every backend: one transaction writes the association, the account,
its roles and the queued e-mail; links are bound to the account's state."""

from __future__ import annotations

import re

import pytest

from engine import AccountService, Application, Invalid, LinkExpired, LinkInvalid, NotificationCenter, Registrations
from engine.persistence.models import Organisation, UserRole


def _link(token: str) -> str:
    return f"https://dsdt.example/lien/{token}"


def _token(center: NotificationCenter, email: str) -> str:
    mail = next(mail for mail in center.outbox() if mail.recipient == email)
    return re.search(r"/lien/(\S+)", mail.body).group(1)


@pytest.fixture
def parts(bare_engine):
    accounts = AccountService(bare_engine.db, bare_engine.clock)
    return accounts, Registrations(accounts, "secret"), NotificationCenter(bare_engine.db, bare_engine.clock)


def test_register_verify_and_reset(parts, bare_engine, clock):
    accounts, registrations, center = parts
    account = registrations.register(
        Application("Les Jardins", "W123456789", "Camille", "c@example.org", "camille", "mot-de-passe"), _link)
    assert not account.active
    with bare_engine.db.sessions() as session:
        assert session.query(Organisation).one().identifier == "W123456789"
        assert {row.role for row in session.query(UserRole)} == {"porteur"}
    token = _token(center, "c@example.org")
    assert registrations.verify(token).active
    with pytest.raises(LinkInvalid):
        registrations.verify(token)

    registrations.request_reset("c@example.org", _link)
    reset = _token(center, "c@example.org")
    assert registrations.check_reset(reset) == "camille"
    clock.advance(minutes=61)
    with pytest.raises(LinkExpired):
        registrations.reset_password(reset, "nouveau-mot-de-passe")
    clock.advance(minutes=-61)
    version = accounts.get("camille").session_version
    assert registrations.reset_password(reset, "nouveau-mot-de-passe").session_version == version + 1
    assert accounts.authenticate("camille", "nouveau-mot-de-passe").login == "camille"
    with pytest.raises(LinkInvalid):
        registrations.reset_password(reset, "encore-un-autre")


def test_a_refused_registration_writes_nothing(parts, bare_engine):
    _accounts, registrations, center = parts
    with pytest.raises(Invalid) as refused:
        registrations.register(Application("", "123", "C", "pas-une-adresse", "c", "court"), _link)
    assert set(refused.value.params["fields"]) == {"association", "identifier", "email", "login", "password"}
    with bare_engine.db.sessions() as session:
        assert session.query(Organisation).count() == 0
    assert center.outbox() == []
