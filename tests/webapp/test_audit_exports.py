"""The auditors' downloads: the event log of a search's dossiers (XES, OCEL, CSV) and a dossier's
archive; auditors and process owners download them, a porteur or an instructeur is refused, and
a search that cannot be read or selects too much is refused with a page, not a cut file."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine import FixedClock, WorkflowEngine, campaigns_api, exports, roles
from engine.persistence.db import Database
from engine.persistence.models import Instance, JournalEntry
from engine.simulation import DurableDriver, simulate
from webapp import create_app

from .conftest import ROOT, AuthActions

PASSWORD = "export-password-2024"


@pytest.fixture
def world(database_url, script_engine):
    """A simulated campaign of 6 dossiers, accounts of four roles, and an app on them."""
    db = Database(database_url)
    db.upgrade()
    clock = FixedClock(datetime(2014, 9, 1, 8, tzinfo=UTC))
    engine = WorkflowEngine(db, clock, script_engine)
    engine.deploy_directory(ROOT, author="tests")
    engine.save_campaign(*campaigns_api.historical_campaign())
    result = simulate(DurableDriver(engine, clock), engine.current_forms(), "DSDT-2014", 6, seed=3,
                      start=datetime(2014, 9, 1, 8, tzinfo=UTC))
    assert result.unfinished == 0
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DSDT_ENGINE": engine})
    accounts = app.extensions["dsdt"].accounts
    for login, role in (("auditrice", roles.AUDITOR), ("responsable", roles.PROCESS_OWNER),
                        ("instructrice", roles.INSTRUCTEUR), ("porteur.x", roles.PORTEUR)):
        accounts.create(login, PASSWORD, roles=[role])
    yield engine, app
    db.dispose()


def download(client, url: str) -> tuple[object, bytes]:
    """(the response, its body), the response closed as a server closes it once sent."""
    with client.get(url) as response:
        return response, response.get_data()


def login(app, who: str):
    client = app.test_client()
    assert AuthActions(client).login(who, PASSWORD).status_code == 302
    return client


def _events(engine) -> int:
    with engine.session() as session:
        return session.scalar(select(func.count()).select_from(JournalEntry).where(
            JournalEntry.command.in_(("start", "complete", "fire_timers", "withdraw"))))


def test_the_search_page_offers_the_logs_and_the_auditor_downloads_each(world):
    engine, app = world
    client = login(app, "auditrice")
    page = client.get("/audit/?campagne=DSDT-2014").get_data(as_text=True)
    for fmt in exports.FORMATS:
        assert f"/audit/export/{fmt}?campagne=DSDT-2014" in page
    response, body = download(client, "/audit/export/xes?campagne=DSDT-2014")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert "attachment" in response.headers["Content-Disposition"]
    root = ET.fromstring(body)
    namespace = "{http://www.xes-standard.org/}"
    assert len(root.findall(f"{namespace}trace")) == 6
    assert len(root.findall(f"{namespace}trace/{namespace}event")) == _events(engine)
    ocel = json.loads(download(client, "/audit/export/ocel")[1])
    assert len(ocel["events"]) == _events(engine)
    rows = download(client, "/audit/export/csv")[1].decode().strip().splitlines()
    assert rows[0].startswith("case_id,activity,timestamp") and len(rows) == _events(engine) + 1


def test_the_log_follows_the_search_and_a_bad_or_too_large_one_is_refused(world, monkeypatch):
    engine, app = world
    client = login(app, "responsable")
    with engine.session() as session:
        ref = session.scalars(select(Instance.ref).order_by(Instance.id)).first()
    body = download(client, f"/audit/export/csv?ref={ref}")[1].decode()
    assert {line.split(",")[0] for line in body.strip().splitlines()[1:]} == {ref}
    assert client.get("/audit/export/csv?du=pas-une-date").status_code == 400
    monkeypatch.setattr(exports, "MAX_DOSSIERS", 5)
    refused = client.get("/audit/export/xes")
    assert refused.status_code == 400 and refused.mimetype == "text/html"
    assert "affinez la recherche pour en exporter 5 au plus" in refused.get_data(as_text=True)
    assert client.get("/audit/export/pdf").status_code == 404


def test_the_history_page_offers_the_archive_and_it_holds_the_dossier(world):
    engine, app = world
    client = login(app, "auditrice")
    with engine.session() as session:
        iid, ref, seq = session.execute(select(Instance.id, Instance.ref, Instance.journal_seq)
                                        .order_by(Instance.id)).first()
    assert f"/audit/dossiers/{iid}/archive.zip" in client.get(f"/audit/dossiers/{iid}").get_data(as_text=True)
    response, body = download(client, f"/audit/dossiers/{iid}/archive.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert f"archive-{ref}.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        history = json.loads(archive.read(f"dossier-{ref}/history.json"))
    assert f"dossier-{ref}/integrity.json" in names and len(history["entries"]) == seq
    assert client.get("/audit/dossiers/999999/archive.zip").status_code == 404


@pytest.mark.parametrize("who", ["porteur.x", "instructrice"])
def test_other_roles_download_nothing(world, who):
    _, app = world
    client = login(app, who)
    for url in ("/audit/export/xes", "/audit/export/ocel", "/audit/export/csv", "/audit/dossiers/1/archive.zip"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.mimetype == "text/html"
    anonymous = app.test_client().get("/audit/export/xes")
    assert anonymous.status_code == 302 and "/connexion" in anonymous.headers["Location"]
