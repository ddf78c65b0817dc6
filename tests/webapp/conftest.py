"""Fixtures for the web app: one engine and demo data per session, a fresh app and client per test."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import EngineConfig, FixedClock, WorkflowEngine
from webapp import create_app, demo
from webapp.services import build

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def clock():
    return FixedClock(NOW)


@pytest.fixture(scope="session")
def engine(tmp_path_factory, clock):
    """An engine on a temp SQLite file with the models deployed and the demo seeded (open campaign only)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'dsdt.sqlite'}"
    eng = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=clock)
    services = build({}, eng)
    demo.seed(services, ROOT, NOW.date(), history=0, log=lambda *_: None)
    yield eng
    eng.close()


@pytest.fixture
def make_app(engine):
    """``make_app(**config)``: an app on the session engine, with extra configuration."""

    def make(**config):
        return create_app({"TESTING": True, "SECRET_KEY": "test", "DSDT_ENGINE": engine, **config})

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def services(app):
    return app.extensions["dsdt"]


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def field_name(page: str, key: str) -> str:
    """The name of the form control for ``key`` (a dotted path), whatever prefix the renderer uses."""
    names = set(re.findall(r'name="([^"]+)"', page))
    for name in names:
        flat = re.sub(r"\[(\w+)\]", r".\1", name)
        if flat.endswith("." + key) and not flat.endswith(".current"):
            return name
    raise AssertionError(f"no control for {key} in the form")


def choice_value(page: str, name: str, value: str) -> str:
    """The submitted value of choice ``value`` for control ``name`` (raw or JSON-encoded by the renderer)."""
    candidates = [html.unescape(v) for v in re.findall(r'value="([^"]*)"', page)]
    return f'"{value}"' if f'"{value}"' in candidates else value


class AuthActions:
    def __init__(self, client):
        self.client = client

    def token(self, path: str = "/connexion") -> str:
        return csrf_token(self.client.get(path).get_data(as_text=True))

    def login(self, login: str, password: str = demo.DEMO_PASSWORD, follow: bool = False):
        return self.client.post(
            "/connexion",
            data={"login": login, "password": password, "csrf_token": self.token()},
            follow_redirects=follow,
        )

    def logout(self):
        return self.client.post("/deconnexion", data={"csrf_token": self.token("/connexion")})

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token("/connexion")}, **kwargs)


@pytest.fixture
def auth(client):
    return AuthActions(client)


def dossier_at(services, bpmn_id: str, epci: str | None = None):
    """The first demo dossier whose open step is ``bpmn_id``."""
    for login in [f"porteur{n}" for n in range(1, 5)]:
        for dossier in services.queries.dossiers_of_porteur(login):
            if any(step.bpmn_id == bpmn_id for step in dossier.open_steps) and (epci is None or dossier.epci == epci):
                return dossier
    raise AssertionError(f"no demo dossier at {bpmn_id}")


@pytest.fixture
def make_dossier(services):
    """A new dossier of ``porteur`` driven to ``stop_at`` (tests that change a dossier use their own)."""
    from engine import Actor

    def make(stop_at: str | None, epci: str = "CAB", porteur: str = "porteur1", overrides: dict | None = None) -> int:
        code = [c.code for c in services.queries.campaigns(open_only=True)][0]
        instance_id = services.engine.start(Actor(porteur, frozenset({"porteur"})), code)
        if stop_at != "contact":
            driver = demo.DemoDriver(services)
            driver.advance(instance_id, porteur, stop_at, {"contact": {"epci": epci}, **(overrides or {})})
        return instance_id

    return make
