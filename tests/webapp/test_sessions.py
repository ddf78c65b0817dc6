"""Sessions end server-side: logout, a new password, deactivation, a change of roles, idle and
absolute lifetimes; API tokens are not sessions."""

from __future__ import annotations

import pytest

from webapp import demo

from .conftest import AuthActions


@pytest.fixture
def moving_clock(clock):
    """The session clock, put back where it was afterwards (the web tests share it)."""
    start = clock.now()
    yield clock
    clock.set(start)


def cookie(client) -> str:
    return client.get_cookie("session").value


def replay(app, value: str):
    """A new client that sends a captured session cookie, as a thief would."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def logged_in(client) -> bool:
    response = client.get("/taches/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_cookie_captured_before_logout_is_refused_after(app, client, auth):
    auth.login("instructeur2")
    captured = cookie(client)
    assert logged_in(replay(app, captured))
    auth.logout()
    assert not logged_in(replay(app, captured))
    assert not logged_in(client)


@pytest.mark.parametrize(
    ("login", "change"),
    [
        ("reset.one", {"password": "a brand new password"}),
        ("deactivated.one", {"active": ""}),
        ("promoted.one", {"roles": ["instructeur", "auditeur"]}),
        ("rescoped.one", {"epci": ["CAB"]}),
    ],
)
def test_an_admins_change_ends_the_sessions_of_the_person(app, services, client, login, change):
    services.accounts.create(login, demo.DEMO_PASSWORD, roles=["instructeur"])
    AuthActions(client).login(login)
    captured = cookie(client)
    assert logged_in(client)

    admin = AuthActions(app.test_client())
    admin.login("admin")
    form = {"full_name": "", "email": "", "roles": ["instructeur"], "active": "1", "password": "", **change}
    assert admin.post(f"/admin/utilisateurs/{login}", form).status_code == 302

    assert not logged_in(client)
    assert not logged_in(replay(app, captured))


def test_editing_a_name_keeps_the_session(app, services, client):
    services.accounts.create("renamed.one", demo.DEMO_PASSWORD, roles=["instructeur"])
    AuthActions(client).login("renamed.one")
    admin = AuthActions(app.test_client())
    admin.login("admin")
    form = {"full_name": "Nouveau nom", "email": "", "roles": ["instructeur"], "active": "1", "password": ""}
    assert admin.post("/admin/utilisateurs/renamed.one", form).status_code == 302
    assert logged_in(client)


def test_an_idle_session_ends(client, auth, moving_clock):
    auth.login("instructeur1")
    moving_clock.advance(minutes=29)
    assert logged_in(client)  # a request restarts the idle time
    moving_clock.advance(minutes=29)
    assert logged_in(client)
    moving_clock.advance(minutes=31)
    page = client.get("/taches/", follow_redirects=True).get_data(as_text=True)
    assert "Votre session a expiré" in page
    assert not logged_in(client)


def test_a_session_ends_after_its_absolute_lifetime_even_when_used(client, auth, moving_clock):
    auth.login("instructeur1")
    for _ in range(24):  # 11 h 36 of steady use
        moving_clock.advance(minutes=29)
        assert logged_in(client)
    moving_clock.advance(minutes=25)  # 12 h 01 after the login
    assert not logged_in(client)


def test_lifetimes_come_from_the_settings(make_app, moving_clock):
    app = make_app(DSDT_SESSION_IDLE_MINUTES=5)
    client = app.test_client()
    AuthActions(client).login("instructeur1")
    moving_clock.advance(minutes=6)
    assert not logged_in(client)


def test_a_cookie_without_the_server_side_marks_is_refused(app, client, auth):
    """A cookie signed before this check (login only) no longer opens a session."""
    auth.login("instructeur1")
    with client.session_transaction() as session:
        for key in ("session_version", "since", "seen"):
            session.pop(key)
    assert not logged_in(client)


def test_api_tokens_survive_the_end_of_web_sessions(app, services, client, auth):
    services.accounts.create("scripted.one", demo.DEMO_PASSWORD, roles=["instructeur"])
    token = services.accounts.create_token("scripted.one", "tests")
    headers = {"Authorization": f"Bearer {token}"}
    auth.login("scripted.one")
    auth.logout()
    services.accounts.update("scripted.one", password="another long password")
    assert app.test_client().get("/api/tasks", headers=headers).status_code == 200
