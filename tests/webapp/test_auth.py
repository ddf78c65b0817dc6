"""Login, throttling of guesses, login format, logout, CSRF, security headers, language."""

from __future__ import annotations

import re

import pytest

import engine.accounts
from engine import MAX_FAILURES, Invalid
from engine.throttle import PER_CLIENT
from webapp import demo

from .conftest import csrf_token


def attempt(client, login: str, password: str, ip: str):
    """One login from the client at ``ip`` (each test uses its own addresses: the web tests share
    one database and a clock that does not move, so failures would add up across tests)."""
    token = csrf_token(client.get("/connexion", environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True))
    return client.post(
        "/connexion",
        data={"login": login, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )


def error_text(response) -> str:
    found = re.search(r'<div class="flash flash-error" role="alert" id="login-error">(.*?)</div>',
                      response.get_data(as_text=True), re.S)
    return found.group(1) if found else ""


def test_login_page_and_security_headers(client):
    response = client.get("/connexion")
    assert response.status_code == 200
    assert "Connexion" in response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_anonymous_is_sent_to_login(client):
    response = client.get("/taches/")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_login_and_logout(client, auth):
    response = auth.login("instructeur1")
    assert response.status_code == 302
    assert client.get("/taches/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/taches/").status_code == 302


def test_wrong_password_is_refused_without_saying_which(client, auth):
    for login in ("instructeur2", "nobody"):
        response = auth.login(login, "wrong password")
        assert response.status_code == 401
        assert "Identifiant ou mot de passe incorrect" in response.get_data(as_text=True)


def test_open_redirect_is_ignored(client, auth):
    response = client.post(
        "/connexion?next=https://evil.example/",
        data={"login": "auditeur", "password": "demo-dsdt-2024", "csrf_token": auth.token()},
    )
    assert response.status_code == 302 and "evil" not in response.headers["Location"]


def test_csrf_refusal(client, auth):
    response = client.post("/connexion", data={"login": "admin", "password": "demo-dsdt-2024"})
    assert response.status_code == 400
    assert "Formulaire expiré" in response.get_data(as_text=True)
    auth.login("porteur1")
    response = client.post("/dossiers/nouveau", data={"campagne": "X"})
    assert response.status_code == 400


def test_language_switch(client, auth):
    auth.post("/langue", {"lang": "en"})
    assert 'lang="en"' in client.get("/connexion").get_data(as_text=True)
    # The English text itself needs compiled catalogues: test_translations compiles and checks them.
    auth.post("/langue", {"lang": "fr"})
    page = client.get("/connexion").get_data(as_text=True)
    assert 'lang="fr"' in page and "Connexion" in page


def test_known_and_unknown_logins_get_the_same_answers(services, client):
    services.accounts.create("known.one", "correct horse", roles=["instructeur"])
    answers = {}
    for login, ip in (("known.one", "10.1.0.1"), ("unknown.one", "10.1.0.2")):
        responses = [attempt(client, login, "bad guess", ip) for _ in range(MAX_FAILURES + 1)]
        answers[login] = [(r.status_code, error_text(r)) for r in responses]
    assert answers["known.one"] == answers["unknown.one"]
    statuses = [status for status, _ in answers["known.one"]]
    assert statuses == [401] * (MAX_FAILURES - 1) + [429, 429]
    assert "réessayez après" in answers["known.one"][-1][1]


def test_an_outsider_cannot_lock_a_person_out(services, client):
    services.accounts.create("victim.one", "correct horse", roles=["administrateur"])
    for _ in range(MAX_FAILURES):
        attempt(client, "victim.one", "bad guess", "10.2.0.66")
    # The guessing client is refused, even with the right password...
    assert attempt(client, "victim.one", "correct horse", "10.2.0.66").status_code == 429
    # ...and the person, from their own client, logs in.
    assert attempt(client, "victim.one", "correct horse", "10.2.0.7").status_code == 302


def test_a_client_trying_many_logins_is_throttled_as_a_client(services, client):
    services.accounts.create("sprayed.one", "correct horse", roles=["instructeur"])
    for n in range(PER_CLIENT):
        assert attempt(client, f"guess{n}", "bad guess", "10.3.0.9").status_code in (401, 429)
    assert attempt(client, "sprayed.one", "correct horse", "10.3.0.9").status_code == 429
    assert attempt(client, "sprayed.one", "correct horse", "10.3.0.10").status_code == 302


def test_a_good_login_clears_that_clients_failures(services, client):
    services.accounts.create("typo.one", "correct horse", roles=["instructeur"])
    for _ in range(MAX_FAILURES - 1):
        attempt(client, "typo.one", "bad guess", "10.4.0.1")
    assert attempt(client, "typo.one", "correct horse", "10.4.0.1").status_code == 302
    assert attempt(client, "typo.one", "bad guess", "10.4.0.1").status_code == 401


def test_every_answer_costs_the_same_argon2_work(services, monkeypatch):
    """A wrong password and an unknown login cost one argon2 verification each; a refused client none."""
    services.accounts.create("timed.one", "correct horse", roles=["instructeur"])
    calls = []
    real = engine.accounts._verify
    monkeypatch.setattr(engine.accounts, "_verify", lambda h, p: calls.append(h) or real(h, p))
    for login in ("timed.one", "untimed.one"):
        for n in range(MAX_FAILURES + 1):
            calls.clear()
            with pytest.raises(engine.accounts.Forbidden):
                services.accounts.authenticate(login, "bad guess", client="10.5.0.1")
            assert len(calls) == (1 if n < MAX_FAILURES else 0), (login, n)


@pytest.mark.parametrize("login", ["a/b", "Admin", "été", "a b", "a?b", "a#b", "a%2F", "x", ".dot", "-dash", "x" * 64])
def test_logins_that_would_break_urls_are_refused(services, login):
    with pytest.raises(Invalid) as refused:
        services.accounts.create(login, "correct horse", roles=["instructeur"])
    assert "login" in refused.value.errors and refused.value.params["fields"]["login"] == "account.login_format"
    assert services.accounts.find(login) is None


def test_demo_logins_fit_the_login_rule(services):
    assert all(engine.accounts.LOGIN_PATTERN.fullmatch(login) for login, *_ in demo.demo_users(services.engine))


def test_the_admin_form_explains_a_refused_login(auth):
    auth.login("admin")
    response = auth.post(
        "/admin/utilisateurs/nouveau",
        {"login": "jean/dupont", "password": "correct horse", "roles": "instructeur", "active": "1"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "lettres minuscules" in page and "jean/dupont" in page  # the message, and nothing typed lost
