"""Login, lockout, logout, CSRF, security headers, language."""

from __future__ import annotations

from engine import MAX_FAILURES


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


def test_lockout_after_repeated_failures(services, auth):
    services.accounts.create("lock.me", "correct horse", roles=["instructeur"])
    for _ in range(MAX_FAILURES - 1):
        assert auth.login("lock.me", "bad").status_code == 401
    locked = auth.login("lock.me", "bad")
    assert locked.status_code == 429
    assert "verrouillé" in locked.get_data(as_text=True)
    # Even the right password is refused while locked.
    assert auth.login("lock.me", "correct horse").status_code == 429


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
