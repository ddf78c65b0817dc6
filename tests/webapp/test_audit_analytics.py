"""The process analytics page: figures, filters, charts as SVG, heatmap data, and who may read them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine import roles
from engine.persistence.models import Instance
from engine.simulation import DurableDriver, simulate

from .test_audit import PASSWORD, login, world  # noqa: F401 - the fixture and helpers of the audit pages

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def campaign(world):  # noqa: F811 - the fixture imported above
    engine, clock, app = world
    result = simulate(DurableDriver(engine, clock), engine.current_forms(), "DSDT-2014", 6, seed=5,
                      start=datetime(2014, 9, 1, 8, tzinfo=UTC))
    assert result.unfinished == 0
    with engine.session() as session:
        instances = list(session.scalars(select(Instance)))
    return engine, app, instances


def test_the_page_counts_the_instance_table(campaign):
    engine, app, instances = campaign
    client = login(app)
    page = client.get("/audit/analytics/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "6 dossiers analysés" in html
    outcomes = Counter(i.outcome for i in instances if i.status == "completed")
    for count in outcomes.values():
        assert f"<td>{count}</td>" in html
    assert "<caption>" in html and 'scope="row"' in html and "Décrire le projet" in html


def test_filters_narrow_the_dossiers_and_bad_input_is_refused(campaign):
    engine, app, instances = campaign
    client = login(app)
    epci, count = Counter(i.epci for i in instances).most_common(1)[0]
    html = client.get(f"/audit/analytics/?epci={epci}").get_data(as_text=True)
    assert (f"{count} dossiers analysés" if count > 1 else "1 dossier analysé") in html
    # (French makes 0 singular, the untranslated source plural)
    assert re.search(r"\b0 dossiers? analysés?", client.get("/audit/analytics/?version=7").get_data(as_text=True))
    bad = client.get("/audit/analytics/?version=abc")
    assert bad.status_code == 400 and "nombre entier" in bad.get_data(as_text=True)
    assert client.get("/audit/analytics/graphique-durees.svg?version=abc").status_code == 400
    assert client.get("/audit/analytics/?campagne=" + "x" * 300).status_code == 400


@pytest.mark.parametrize("kind", ["issues", "durees", "attentes"])
def test_charts_are_svg_documents_to_download(campaign, kind):
    engine, app, instances = campaign
    client = login(app, "responsable")
    shown = client.get(f"/audit/analytics/graphique-{kind}.svg")
    assert shown.status_code == 200 and shown.mimetype == "image/svg+xml"
    assert "Content-Disposition" not in shown.headers
    root = ET.fromstring(shown.get_data())
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title").text and root.findall(f"{SVG}rect")
    download = client.get(f"/audit/analytics/graphique-{kind}.svg?telecharger=1")
    assert download.headers["Content-Disposition"] == f"attachment; filename=analyse-{kind}.svg"
    assert client.get("/audit/analytics/graphique-autre.svg").status_code == 404


def test_heatmap_gives_each_diagram_its_steps_waiting(campaign):
    engine, app, instances = campaign
    data = login(app).get("/audit/analytics/heatmap.json").get_json()
    diagrams = data["diagrams"]
    assert diagrams[0]["main"] and len(diagrams) > 1
    contact = next(d for d in diagrams if "contact" in d["heat"])
    assert set(contact["heat"]["contact"]) == {"level", "text"}
    levels = [h["level"] for d in diagrams for h in d["heat"].values()]
    assert min(levels) >= 0 and max(levels) == data["levels"] - 1
    assert diagrams[0]["heat"]  # the phases of the main process carry their most waited step


def test_only_overseers_read_the_analytics(campaign):
    engine, app, instances = campaign
    accounts = app.extensions["dsdt"].accounts
    accounts.create("admine", PASSWORD, roles=[roles.ADMIN])
    for who in ("auditrice", "responsable", "admine"):
        assert login(app, who).get("/audit/analytics/").status_code == 200, who
    for who in ("instructrice", "asso.alpha"):
        client = login(app, who)
        for path in ("/audit/analytics/", "/audit/analytics/graphique-issues.svg", "/audit/analytics/heatmap.json"):
            assert client.get(path).status_code == 403, (who, path)
    anonymous = app.test_client().get("/audit/analytics/")
    assert anonymous.status_code in (302, 401)
