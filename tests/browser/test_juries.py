"""Jury sessions in the browser: an administrator sets a territorial session's date and quorum
from the navigation's Jurys page; a dossier then waits for that session's examination; the
session's president records an attendance below the quorum and the dossier goes to the regional
jury (the model's path, engine.jury_sessions); the president downloads the procès-verbal (PDF)
and confirms it. Every page goes through axe-core (tests/browser/conftest.py).

Its own jury (TERR-CAVM) and its own dossier: the session's date changes for dossiers that
start afterwards only, and the attendance reaches only the dossiers waiting on the new date.
"""

from __future__ import annotations

import re
from datetime import timedelta

from engine import Actor, JuryAdmin, campaigns_api, roles
from engine.history import read_history
from webapp import demo

from .conftest import NOW

JURY = "TERR-CAVM"
PRESIDENT = "jury.cavm.president"


def test_session_set_attendance_below_quorum_and_minutes(visit, live_services):
    engine = live_services.engine
    page = visit.page
    code = campaigns_api.open_campaign(NOW.date())[0]
    _row, _seats, sessions = JuryAdmin(engine.db).jury(JURY)
    session = next(s for s in sessions if s.campaign_code == code)
    new_day = session.day + timedelta(days=7)

    with visit.as_user("admin"):
        visit.click_link(page.get_by_role("link", name="Jurys", exact=True))
        visit.click_link(page.get_by_role("link", name="Jury territorial de Valenciennes Métropole"))
        region = page.get_by_role("region", name=re.compile(f"Campagne {code} "))
        region.get_by_label("Date de la session").fill(new_day.isoformat())
        region.get_by_label("Quorum").fill("3")
        visit.submit(region.get_by_role("button", name="Enregistrer la session"))
        assert "La session est enregistrée" in page.locator("main").inner_text()
    moved = next(s for s in JuryAdmin(engine.db).jury(JURY)[2] if s.campaign_code == code)
    assert moved.day == new_day and moved.quorum == 3

    # a dossier of Valenciennes Métropole that reaches the territorial examination of that session
    instance_id = engine.start(Actor("porteur2", frozenset({roles.PORTEUR})), code)
    demo.DemoDriver(live_services).advance(instance_id, "porteur2", "examen_territorial",
                                           {"contact": {"epci": "CAVM"}})
    views = engine.task_views(instance_id)
    assert {v.bpmn_id for v in views} == {"examen_territorial"}
    assert views[0].data["jury_session"] == new_day.isoformat()

    with visit.as_user(PRESIDENT):
        visit.goto(f"/jurys/{JURY}/sessions/{code}/presences")
        page.get_by_label("Président du jury de Valenciennes Métropole").check()
        page.get_by_label("Élu de Valenciennes Métropole 1").check()
        visit.submit(page.get_by_role("button", name="Enregistrer les présences"))
        assert "Quorum non atteint : 1 dossier(s) transmis au jury régional" in page.locator("main").inner_text()
        views = engine.task_views(instance_id)
        assert {v.bpmn_id for v in views} == {"examen_regional"}
        assert views[0].data["jury_impossibilite"]["presents"] == [PRESIDENT, "jury.cavm.elu1"]

        with page.expect_download() as download:
            page.get_by_role("link", name="Procès-verbal (PDF)").click()
        with open(download.value.path(), "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"
        visit.submit(page.get_by_role("button", name="Confirmer le procès-verbal"))
        text = page.locator("main").inner_text()
        assert "Procès-verbal confirmé" in text and "Confirmer le procès-verbal" not in text
    last = read_history(engine, instance_id).entries[-1]
    assert last.command == "jury_record" and last.actor == PRESIDENT
