"""Self-service accounts: registration with e-mail verification, forgotten passwords, and the
administrators' view of throttled logins."""

from __future__ import annotations

import re
from itertools import count

import pytest

from engine import MAX_FAILURES, Registrations
from engine.registration import identifier_ok

from .conftest import AuthActions

PASSWORD = "un-bon-mot-de-passe"
_serial = count(1)


@pytest.fixture(autouse=True)
def own_address(client):
    """Each test logs in from its own address: the suite's failed logins, counted per client on
    a clock that does not move, must not throttle these tests."""
    client.environ_base["REMOTE_ADDR"] = f"10.1.0.{next(_serial) % 250}"


def _form(**changes) -> dict:
    n = next(_serial)
    return {
        "association": "Les Jardins du Beffroi",
        "identifier": "732 829 320 00074",
        "full_name": "Camille Martin",
        "email": f"camille{n}@jardins.example.org",
        "login": f"jardins{n}",
        "password": PASSWORD,
        "password_again": PASSWORD,
        **changes,
    }


def _mail_to(services, email: str):
    mails = [mail for mail in services.notifications.outbox(limit=1000) if mail.recipient == email]
    return mails[0] if mails else None  # the newest first


def _link(services, email: str) -> str:
    mail = _mail_to(services, email)
    assert mail is not None, f"no e-mail to {email}"
    return re.search(r"http://localhost(/\S+)", mail.body).group(1)


def _register(auth, services, **changes) -> dict:
    form = _form(**changes)
    response = auth.post("/inscription", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return form


@pytest.mark.parametrize(("value", "good"), [
    ("73282932000074", True), ("W123456789", True),
    ("73282932000075", False), ("7328293200007", False), ("W12345678", False), ("X123456789", False),
])
def test_identifier_is_a_siret_with_its_key_or_an_rna_number(value, good):
    assert identifier_ok(value) is good


def test_a_porteur_registers_verifies_logs_in_and_applies(auth, client, services):
    form = _register(auth, services)
    account = services.accounts.get(form["login"])
    assert not account.active and account.roles == ("porteur",)
    assert auth.login(form["login"], PASSWORD).status_code == 401  # not before the address is verified

    link = _link(services, form["email"])
    assert link.startswith("/inscription/verifier/")
    response = client.get(link)
    assert response.status_code == 302 and response.headers["Location"].endswith("/connexion")
    assert services.accounts.get(form["login"]).active

    assert auth.login(form["login"], PASSWORD).status_code == 302
    code = services.queries.campaigns(open_only=True)[0].code
    response = auth.post("/dossiers/nouveau", {"campagne": code})
    assert response.status_code == 302 and "/etape/" in response.headers["Location"]
    assert len(services.queries.dossiers_of_porteur(form["login"])) == 1


def test_a_verification_link_works_once(auth, client, services):
    form = _register(auth, services)
    link = _link(services, form["email"])
    assert client.get(link).status_code == 302
    again = client.get(link)
    assert again.status_code == 400 and "déjà servi" in again.get_data(as_text=True)


def test_a_forged_link_is_refused(auth, client, services):
    form = _register(auth, services)
    link = _link(services, form["email"])
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert client.get(forged).status_code == 400
    other_key = Registrations(services.accounts, "another secret")
    token = other_key._verify.dumps({"l": form["login"], "v": 0})
    assert client.get(f"/inscription/verifier/{token}").status_code == 400
    assert not services.accounts.get(form["login"]).active


def test_an_expired_link_is_refused_and_a_new_one_can_be_sent(auth, client, services, clock):
    form = _register(auth, services)
    link = _link(services, form["email"])
    start = clock.now()
    clock.advance(hours=49)
    try:
        page = client.get(link)
        assert page.status_code == 400 and "expiré" in page.get_data(as_text=True)
        assert "/inscription/renvoyer" in page.get_data(as_text=True)
        assert auth.post("/inscription/renvoyer", {"email": form["email"]}).status_code == 302
        fresh = _link(services, form["email"])
        assert fresh != link
        assert client.get(fresh).status_code == 302
    finally:
        clock.set(start)
    assert services.accounts.get(form["login"]).active


@pytest.mark.parametrize(("field", "value", "words"), [
    ("identifier", "73282932000075", "SIRET"),
    ("identifier", "W12", "SIRET"),
    ("email", "pas-une-adresse", "adresse électronique"),
    ("login", "Pas Valide", "lettres minuscules"),
    ("password", "court", "au moins 8"),
    ("association", "x" * 201, "Au plus 200"),
])
def test_bad_registration_names_the_field_and_creates_nothing(auth, services, field, value, words):
    form = _form(**{field: value, **({"password_again": value} if field == "password" else {})})
    response = auth.post("/inscription", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and words in page
    assert f'aria-describedby="{field}-hint {field}-error"' in page or f'aria-describedby="{field}-error"' in page
    assert services.accounts.find(form["login"]) is None
    assert _mail_to(services, form["email"]) is None


def test_a_taken_login_is_refused(auth, services):
    response = auth.post("/inscription", _form(login="porteur1"))
    assert response.status_code == 400 and "existe déjà" in response.get_data(as_text=True)


def test_reset_says_the_same_whether_the_address_has_an_account_or_not(auth, client, services):
    form = _register(auth, services)
    client.get(_link(services, form["email"]))
    known = auth.post("/mot-de-passe-oublie", {"email": form["email"]}, follow_redirects=True)
    unknown = auth.post("/mot-de-passe-oublie", {"email": "personne@nulle-part.example"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert _mail_to(services, "personne@nulle-part.example") is None
    assert "/mot-de-passe/" in _mail_to(services, form["email"]).body


def test_a_reset_link_works_once_and_ends_the_old_sessions(auth, client, app, services):
    form = _register(auth, services)
    client.get(_link(services, form["email"]))
    elsewhere = AuthActions(app.test_client())
    assert elsewhere.login(form["login"], PASSWORD).status_code == 302
    assert elsewhere.client.get("/dossiers/").status_code == 200

    auth.post("/mot-de-passe-oublie", {"email": form["email"]})
    link = _link(services, form["email"])
    assert client.get(link).status_code == 200
    short = auth.post(link, {"password": "court", "password_again": "court"})
    assert short.status_code == 400 and "au moins 8" in short.get_data(as_text=True)
    new = "un-autre-mot-de-passe"
    assert auth.post(link, {"password": new, "password_again": new}).status_code == 302

    assert elsewhere.client.get("/dossiers/").status_code == 302  # the old session is over
    assert auth.login(form["login"], PASSWORD).status_code == 401
    assert auth.login(form["login"], new).status_code == 302
    assert client.get(link).status_code == 400  # spent
    assert auth.post(link, {"password": "encore-un-autre", "password_again": "encore-un-autre"}).status_code == 400


def test_a_reset_link_expires_after_an_hour(auth, client, services, clock):
    form = _register(auth, services)
    client.get(_link(services, form["email"]))
    auth.post("/mot-de-passe-oublie", {"email": form["email"]})
    link = _link(services, form["email"])
    start = clock.now()
    clock.advance(minutes=61)
    try:
        assert "expiré" in client.get(link).get_data(as_text=True)
    finally:
        clock.set(start)


def test_no_reset_for_an_account_awaiting_verification(auth, services):
    form = _register(auth, services)
    auth.post("/mot-de-passe-oublie", {"email": form["email"]})
    assert "/mot-de-passe/" not in _mail_to(services, form["email"]).body


def test_an_administrator_sees_throttled_logins_and_unlocks_one(app, auth, services):
    form = _register(auth, services)
    services.accounts.update(form["login"], active=True)
    guesser = AuthActions(app.test_client())
    guesser.client.environ_base["REMOTE_ADDR"] = "10.2.0.1"
    for _ in range(MAX_FAILURES):
        guesser.login(form["login"], "mauvais")
    guesser.login("nobody-has-this-login", "mauvais")
    assert guesser.login(form["login"], PASSWORD).status_code == 429

    admin = AuthActions(app.test_client())
    admin.login("admin")
    page = admin.client.get("/admin/connexions").get_data(as_text=True)
    assert f"<td>{form['login']}</td>" in page and "nobody-has-this-login" not in page
    assert admin.post(f"/admin/connexions/{form['login']}/debloquer").status_code == 302
    assert f"<td>{form['login']}</td>" not in admin.client.get("/admin/connexions").get_data(as_text=True)
    assert guesser.login(form["login"], PASSWORD).status_code == 302


def test_only_administrators_see_throttled_logins(auth):
    auth.login("porteur1")
    assert auth.client.get("/admin/connexions").status_code == 403
    assert auth.post("/admin/connexions/porteur1/debloquer").status_code == 403


def test_an_administrator_deciding_on_a_pending_account_spends_its_link(auth, client, services):
    refused = _register(auth, services)
    services.accounts.update(refused["login"], active=False, full_name="Refusée")  # active unchanged: still pending
    services.accounts.update(refused["login"], active=True)
    services.accounts.update(refused["login"], active=False)  # deactivated by the administrator
    assert client.get(_link(services, refused["email"])).status_code == 400
    assert not services.accounts.get(refused["login"]).active

    kept = _register(auth, services)
    services.accounts.update(kept["login"], full_name="Camille M.", active=False)
    assert client.get(_link(services, kept["email"])).status_code == 302


def test_an_account_activated_by_an_administrator_no_longer_awaits_verification(auth, services):
    form = _register(auth, services)
    services.accounts.update(form["login"], active=True)
    before = len(services.notifications.outbox(limit=1000))
    auth.post("/inscription/renvoyer", {"email": form["email"]})
    assert len(services.notifications.outbox(limit=1000)) == before


def _member(auth, client, services) -> dict:
    form = _register(auth, services)
    client.get(_link(services, form["email"]))
    return form


def test_a_member_invites_a_colleague_who_reads_the_associations_dossiers(auth, client, app, services):
    founder = _member(auth, client, services)
    auth.login(founder["login"], PASSWORD)
    code = services.queries.campaigns(open_only=True)[0].code
    auth.post("/dossiers/nouveau", {"campagne": code})
    dossier = services.queries.dossiers_of_porteur(founder["login"])[0]
    page = client.get("/association/").get_data(as_text=True)
    assert "Les Jardins du Beffroi" in page and founder["login"] in page
    assert "Mon association" in page
    colleague_email = f"collegue{next(_serial)}@jardins.example.org"
    assert auth.post("/association/", {"email": colleague_email}).status_code == 302
    link = _link(services, colleague_email)
    auth.logout()

    other = AuthActions(app.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "10.3.0.1"
    assert other.client.get(link).status_code == 200
    login = f"collegue{next(_serial)}"
    joined = other.post(link, {"full_name": "Dominique", "login": login,
                               "password": PASSWORD, "password_again": PASSWORD})
    assert joined.status_code == 302
    assert other.client.get(link).status_code == 400  # works once
    account = services.accounts.get(login)
    assert account.active and account.roles == ("porteur",) and account.organisation_id is not None

    other.login(login, PASSWORD)
    assert f"/dossiers/{dossier.id}" in other.client.get("/dossiers/").get_data(as_text=True)
    assert other.client.get(f"/dossiers/{dossier.id}").status_code == 200

    outsider = AuthActions(app.test_client())
    outsider.login("porteur1")
    assert outsider.client.get(f"/dossiers/{dossier.id}").status_code == 404
    own = outsider.client.get("/association/")  # porteur1's own demo association, not the founder's
    assert own.status_code == 200 and "Les Jardins du Beffroi" not in own.get_data(as_text=True)


def test_an_invitation_needs_an_address_and_a_member(auth, client, services):
    founder = _member(auth, client, services)
    auth.login(founder["login"], PASSWORD)
    response = auth.post("/association/", {"email": "pas-une-adresse"})
    assert response.status_code == 400 and 'id="email-error"' in response.get_data(as_text=True)
    assert client.get("/association/rejoindre/forged-token").status_code == 302  # logged in: nothing to join
    auth.logout()
    assert client.get("/association/rejoindre/forged-token").status_code == 400


def test_repeated_requests_do_not_flood_a_mailbox(auth, client, services, clock):
    form = _member(auth, client, services)
    for _ in range(3):
        auth.post("/mot-de-passe-oublie", {"email": form["email"]})
    resets = [m for m in services.notifications.outbox(limit=1000)
              if m.recipient == form["email"] and "/mot-de-passe/" in m.body]
    assert len(resets) == 1
    start = clock.now()
    clock.advance(minutes=6)
    try:
        auth.post("/mot-de-passe-oublie", {"email": form["email"]})
    finally:
        clock.set(start)
    assert len([m for m in services.notifications.outbox(limit=1000)
                if m.recipient == form["email"] and "/mot-de-passe/" in m.body]) == 2
