"""The pages state the engine's numbers (password lengths, the login throttle's window, link
lifetimes), never copies of them: change one in the engine and the pages follow."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import account_policy, accounts, organisations, registration, throttle


def test_the_policy_reads_the_enforced_values():
    assert account_policy() == {"min_password": accounts.MIN_PASSWORD, "max_password": accounts.MAX_PASSWORD,
                                "throttle_minutes": throttle.WINDOW // timedelta(minutes=1),
                                "verify_hours": registration.VERIFY_FOR // timedelta(hours=1),
                                "reset_hours": registration.RESET_FOR // timedelta(hours=1),
                                "invite_days": organisations.INVITE_FOR.days}


@pytest.fixture
def changed(monkeypatch):
    """Other numbers than the shipped ones: a page that hard-codes a number shows the old one."""
    monkeypatch.setattr(accounts, "MIN_PASSWORD", 13)
    monkeypatch.setattr(accounts, "MAX_PASSWORD", 777)
    monkeypatch.setattr(throttle, "WINDOW", timedelta(minutes=23))
    monkeypatch.setattr(organisations, "INVITE_FOR", timedelta(days=9))
    monkeypatch.setattr(registration, "VERIFY_FOR", timedelta(hours=31))
    monkeypatch.setattr(registration, "RESET_FOR", timedelta(hours=3))


def test_the_registration_pages_state_the_engines_numbers(client, changed):
    page = client.get("/inscription").get_data(as_text=True)
    assert "Au moins 13 caractères." in page and 'maxlength="777"' in page
    assert "8 caractères" not in page and 'maxlength="1024"' not in page


def test_the_forgotten_password_answer_states_the_links_lifetime(client, changed):
    from .conftest import csrf_token

    page = client.get("/mot-de-passe-oublie").get_data(as_text=True)
    answer = client.post("/mot-de-passe-oublie", data={"email": "personne@example.org",
                                                       "csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "il vaut 3 heure(s)." in answer.get_data(as_text=True)


def test_the_lockouts_page_states_the_throttle_window(client, auth, changed):
    auth.login("admin")
    assert "depuis moins de 23 minutes" in client.get("/admin/connexions").get_data(as_text=True)
