"""/healthz and /readyz, and the answers while the database is down: 503 with Retry-After, never
a 500 (issue 12: during a PostgreSQL outage the API answered ``500 internal_error``)."""

from __future__ import annotations

import pytest

from engine import Database, WorkflowEngine
from webapp import create_app

#: databases that cannot be reached: a SQLite file in a folder that does not exist, and a
#: PostgreSQL server on a port where none listens (refused at once; no server needed)
UNREACHABLE = ["sqlite:////nonexistent-folder/dsdt.sqlite", "postgresql+psycopg://dsdt@127.0.0.1:1/dsdt"]


@pytest.fixture
def app_on(clock, script_engine):
    """``app_on(database)``: an app on an engine over ``database`` (as it is: not migrated)."""
    made = []

    def make(database: Database):
        engine = WorkflowEngine(database, clock, script_engine)
        made.append(database)
        return create_app({"TESTING": True, "SECRET_KEY": "test", "DSDT_ENGINE": engine})

    yield make
    for database in made:
        database.dispose()


@pytest.fixture(scope="session")
def script_engine():
    from engine.scripts import SandboxedScriptEngine, SandboxPool

    pool = SandboxPool(size=1, time_limit=2.0)
    yield SandboxedScriptEngine(pool)
    pool.close()


def test_liveness_and_readiness_answer_without_a_login(client):
    live = client.get("/healthz")
    assert live.status_code == 200 and live.json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"


def test_not_ready_on_a_schema_not_migrated(app_on, tmp_path):
    response = app_on(Database(f"sqlite:///{tmp_path / 'empty.sqlite'}")).test_client().get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json["reason"] == "schema.outdated" and "dsdt migrate" in response.json["detail"]


@pytest.mark.parametrize("url", UNREACHABLE, ids=["sqlite", "postgresql"])
def test_while_the_database_is_down_pages_api_and_readiness_answer_503_with_retry_after(app_on, url):
    client = app_on(Database(url)).test_client()
    assert client.get("/healthz").status_code == 200  # alive: restarting the process would not help

    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["reason"] == "service.unavailable"

    api = client.get("/api/tasks", headers={"Authorization": "Bearer some-token"})
    assert api.status_code == 503, api.get_data(as_text=True)
    assert api.json["code"] == "unavailable" and int(api.headers["Retry-After"]) > 0

    with client.session_transaction() as session:
        session["login"] = "instructeur1"  # a logged-in person: their account is read at every request
    page = client.get("/taches/")
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
    assert "indisponible" in page.get_data(as_text=True)
