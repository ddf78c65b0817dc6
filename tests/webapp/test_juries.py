"""Jury pages (webapp.juries): the juries, seats and sessions for administrators and regional
officers (roles refused, CSRF, bad input shown on its field and changing nothing), a territorial
session's impossibility declared by a regional officer, and the session's procès-verbal as PDF
read from the journal (the session's president, regional officers, administrators)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from engine import EngineConfig, FixedClock, JuryAdmin, WorkflowEngine
from engine.history import read_history
from engine.journal import entries as journal_entries
from engine.jury_minutes import read_minutes
from engine.jury_sessions import forward_waiting
from webapp import demo
from webapp.services import build

from .conftest import ROOT

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def clock():
    return FixedClock(NOW)


@pytest.fixture(scope="module")
def engine(tmp_path_factory, clock):
    """This module's own demo engine: its impossibilities move dossiers other modules count on."""
    url = f"sqlite:///{tmp_path_factory.mktemp('juries') / 'dsdt.sqlite'}"
    eng = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=clock)
    demo.seed(build({}, eng), ROOT, NOW.date(), history=0, log=lambda *_: None)
    yield eng
    eng.close()


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _campaign(services) -> str:
    return services.queries.campaigns(open_only=True)[0].code


def _seats(services, code: str) -> int:
    return len(JuryAdmin(services.engine.db).jury(code)[1])


def test_pages_are_for_administrators_and_regional_officers(auth, client):
    assert client.get("/jurys/").status_code == 302  # to the login page
    auth.login("porteur1")
    assert client.get("/jurys/").status_code == 403
    assert client.get("/jurys/TERR-CAB").status_code == 403
    assert auth.post("/jurys/TERR-CAB/membres", {"login": "x.y"}).status_code == 403
    auth.logout()
    for login in ("admin", "instructeur1"):
        auth.login(login)
        page = client.get("/jurys/").get_data(as_text=True)
        assert "TERR-CAB" in page and "REGIONAL" in page
        page = client.get("/jurys/TERR-CAB").get_data(as_text=True)
        assert "jury.cab.president" in page and 'name="csrf_token"' in page
        auth.logout()


def test_adding_a_seat_checks_csrf_and_input(auth, client, services):
    auth.login("admin")
    before = _seats(services, "TERR-CAB")
    form = {"login": "elu.regional.neuf", "full_name": "Élue régionale", "kind": "elu_regional", "epci": "",
            "term_start": "2014-04-01", "term_end": ""}
    assert client.post("/jurys/TERR-CAB/membres", data=form).status_code == 400  # no CSRF token
    bad = auth.post("/jurys/TERR-CAB/membres", {**form, "login": "Pas Valide!"})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert 'id="login-error"' in page and 'aria-invalid="true"' in page
    bad = auth.post("/jurys/TERR-CAB/membres", {**form, "kind": "elu_intercommunal"})  # without its EPCI
    assert bad.status_code == 400 and 'id="epci-error"' in bad.get_data(as_text=True)
    bad = auth.post("/jurys/TERR-CAB/membres", {**form, "term_start": "demain"})
    assert bad.status_code == 400 and 'id="term_start-error"' in bad.get_data(as_text=True)
    assert _seats(services, "TERR-CAB") == before  # nothing changed
    done = auth.post("/jurys/TERR-CAB/membres", form)
    assert done.status_code == 302 and _seats(services, "TERR-CAB") == before + 1


def test_a_session_change_that_breaks_the_quorum_is_refused(auth, client, services):
    auth.login("instructeur1")
    code = _campaign(services)
    session = next(s for s in JuryAdmin(services.engine.db).jury("REGIONAL")[2] if s.campaign_code == code)
    bad = auth.post(f"/jurys/REGIONAL/sessions/{code}", {"day": session.day.isoformat(), "quorum": "99"})
    assert bad.status_code == 400 and "quorum" in bad.get_data(as_text=True)
    bad = auth.post(f"/jurys/REGIONAL/sessions/{code}", {"day": session.day.isoformat(), "quorum": "deux"})
    assert bad.status_code == 400
    after = next(s for s in JuryAdmin(services.engine.db).jury("REGIONAL")[2] if s.campaign_code == code)
    assert after == session


def test_a_regional_officer_declares_a_session_impossible(auth, client, services, make_dossier):
    iid = make_dossier("examen_territorial", epci="CAB")
    code = _campaign(services)
    url = f"/jurys/TERR-CAB/sessions/{code}/impossibilite"
    auth.login("admin")  # administrators manage juries; the Région's officers declare impossibilities
    assert auth.post(url, {"motif": "Conseil communautaire"}).status_code == 403
    auth.logout()
    auth.login("instructeur1")
    empty = auth.post(url, {"motif": "  "})
    assert empty.status_code == 400 and 'id="motif-error"' in empty.get_data(as_text=True)
    assert {v.bpmn_id for v in services.engine.task_views(iid)} == {"examen_territorial"}
    done = auth.post(url, {"motif": "Élus intercommunaux indisponibles"})
    assert done.status_code == 302
    assert {v.bpmn_id for v in services.engine.task_views(iid)} == {"examen_regional"}
    page = client.get("/jurys/TERR-CAB").get_data(as_text=True)
    assert "Session déclarée impossible" in page and "Élus intercommunaux indisponibles" in page
    # a dossier reaching the impossible session later goes to the regional jury at once
    later = make_dossier("examen_territorial", epci="CAB", porteur="porteur2")
    assert forward_waiting(services.engine) == 1  # the worker's pass
    views = services.engine.task_views(later)
    assert {v.bpmn_id for v in views} == {"examen_regional"}
    assert views[0].data["jury_impossibilite"]["motif"] == "Élus intercommunaux indisponibles"
    assert [e.actor for e in read_history(services.engine, later).entries if e.command == "message"] == ["system"]
    again = f"/jurys/TERR-CAB/sessions/{code}/reconvocation"
    assert client.post(again).status_code == 400  # no CSRF token
    assert auth.post(again, {}).status_code == 302
    assert "Session déclarée impossible" not in client.get("/jurys/TERR-CAB").get_data(as_text=True)
    assert auth.post(again, {}).status_code == 400  # not impossible any more: refused
    waiting = make_dossier("examen_territorial", epci="CAB", porteur="porteur2")
    assert forward_waiting(services.engine) == 0
    assert {v.bpmn_id for v in services.engine.task_views(waiting)} == {"examen_territorial"}
    assert services.engine.verify().diverged == []


def test_jury_pages_print_dates_in_the_pages_language(auth, client, services):
    from babel.dates import format_date

    auth.login("instructeur1")
    code = _campaign(services)
    session = next(s for s in JuryAdmin(services.engine.db).jury("TERR-CAB")[2] if s.campaign_code == code)
    page = client.get("/jurys/TERR-CAB").get_data(as_text=True)
    assert f"session du {format_date(session.day, 'long', locale='fr')}" in page
    assert f"session du {session.day.isoformat()}" not in page


def test_the_proces_verbal_is_read_from_the_journal(auth, client, services, make_dossier):
    iid = make_dossier("commission_permanente", epci="CAVM")  # examined and confirmed by TERR-CAVM
    code = _campaign(services)
    url = f"/jurys/TERR-CAVM/sessions/{code}/proces-verbal.pdf"
    for login in ("porteur1", "jury.cab.president", "jury.cavm.elu1"):
        auth.login(login)
        assert client.get(url).status_code == 403, login
        auth.logout()
    auth.login("jury.cavm.president")
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data).replace("\n", "")
    ref = services.engine.instance(iid).ref
    assert ref in text and "jury.cavm.elu1" in text and "favorable" in text
    with services.engine.db.sessions() as session:
        rows = journal_entries(session, iid)
    cited = [row for row in rows if row.command == "complete" and row.actor.startswith("jury.cavm.")]
    assert len(cited) >= 4  # three intercommunal members and a regional one examine; the president confirms
    assert all(row.entry_hash[:20] in text for row in cited)
    auth.logout()
    auth.login("instructeur1")
    assert client.get(url).status_code == 200
    assert client.get("/jurys/TERR-CAVM/sessions/NOPE/proces-verbal.pdf").status_code == 404


def test_the_president_records_a_failed_quorum(auth, client, services, make_dossier):
    iid = make_dossier("examen_territorial", epci="CAVM", porteur="porteur2")
    code = _campaign(services)
    url = f"/jurys/TERR-CAVM/sessions/{code}/presences"
    auth.login("jury.cab.president")  # another jury's president
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login("jury.cavm.president")
    page = client.get(url).get_data(as_text=True)
    assert 'value="jury.cavm.elu1"' in page and 'name="csrf_token"' in page
    bad = auth.post(url, {"present": ["jury.cab.elu1"]})
    assert bad.status_code == 400 and {v.bpmn_id for v in services.engine.task_views(iid)} == {"examen_territorial"}
    done = auth.post(url, {"present": ["jury.cavm.president", "jury.cavm.elu1"]})
    assert done.status_code == 302
    views = services.engine.task_views(iid)
    assert {v.bpmn_id for v in views} == {"examen_regional"}
    assert views[0].data["jury_impossibilite"]["cause"] == "quorum"


def test_the_president_confirms_the_proces_verbal(auth, client, services, make_dossier):
    iid = make_dossier("commission_permanente", epci="CAVM")
    code = _campaign(services)
    url = f"/jurys/TERR-CAVM/sessions/{code}/proces-verbal/confirmation"
    auth.login("jury.cab.president")  # another jury's president
    assert auth.post(url, {}).status_code == 403
    auth.logout()
    auth.login("jury.cavm.president")
    before = services.engine.instance(iid).journal_seq
    assert client.post(url, data={}).status_code == 400  # no CSRF token
    assert services.engine.instance(iid).journal_seq == before
    assert auth.post(url, {}).status_code == 302
    with services.engine.db.sessions() as session:
        last = journal_entries(session, iid)[-1]
    assert last.command == "jury_record" and last.payload["record"] == "proces_verbal"
    digest = last.payload["minutes_hash"]
    page = client.get(f"/jurys/TERR-CAVM/sessions/{code}/presences").get_data(as_text=True)
    assert digest in page and "Confirmer le procès-verbal" not in page
    text = pdf_text(client.get(f"/jurys/TERR-CAVM/sessions/{code}/proces-verbal.pdf").data).replace("\n", "")
    assert digest[:20] in text
    auth.logout()
    auth.login("instructeur1")  # the staff's dossier page lists the record in its history
    assert "Séance du jury" in client.get(f"/dossiers/{iid}").get_data(as_text=True)


def test_the_demo_has_a_failed_quorum_and_an_impossibility(services):
    code = _campaign(services)
    minutes = {jury: read_minutes(services.engine.db, jury, code) for jury in ("TERR-CAB", "TERR-CAVM")}
    causes = {jury: [i.cause for d in found.dossiers for i in d.impossibilities] for jury, found in minutes.items()}
    assert "quorum" in causes["TERR-CAB"] and "declaree" in causes["TERR-CAVM"]
    assert minutes["TERR-CAB"].present_recorded
    assert minutes["TERR-CAB"].present == ["jury.cab.president", "jury.cab.elu1"]
