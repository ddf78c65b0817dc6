"""The dossier page's diagram: its data endpoint (scope, content) and the page without JavaScript."""

from __future__ import annotations

from webapp.diagram import diagram_data

from .conftest import dossier_at


def test_diagram_json_has_the_main_process_and_the_phases_reached(client, auth, services):
    dossier = dossier_at(services, "recevabilite", "CAB")
    auth.login(dossier.porteur)
    response = client.get(f"/dossiers/{dossier.id}/diagram.json")
    assert response.status_code == 200
    body = response.get_json()
    assert body["current"] == ["recevabilite"]
    assert {"contact", "fiche", "dossier"} <= set(body["done"])
    diagrams = body["diagrams"]
    assert [d["process"] for d in diagrams] == ["dsdt_candidature", "dsdt_contact", "dsdt_fiche", "dsdt_dossier"]
    main = diagrams[0]
    assert main["main"] and main["xml"].lstrip().startswith("<?xml")
    assert main["done"] == ["phase_contact", "phase_fiche"] and main["current"] == ["phase_dossier"]
    phase = diagrams[3]
    assert phase["calledBy"] == "phase_dossier" and phase["current"] == ["recevabilite"]
    assert "dossier" in phase["done"] and 'id="recevabilite"' in phase["xml"]


def test_diagram_json_is_scope_checked(client, auth, services):
    dossier = dossier_at(services, "recevabilite", "CAB")
    other = next(f"porteur{n}" for n in range(1, 5) if f"porteur{n}" != dossier.porteur)
    assert client.get(f"/dossiers/{dossier.id}/diagram.json").status_code == 302  # to the login page
    auth.login(other)
    assert client.get(f"/dossiers/{dossier.id}/diagram.json").status_code == 404
    auth.logout()
    auth.login("tech.epci.cavm")
    assert client.get(f"/dossiers/{dossier.id}/diagram.json").status_code == 403
    auth.logout()
    auth.login("tech.epci.cab")
    assert client.get(f"/dossiers/{dossier.id}/diagram.json").status_code == 200


def test_dossier_page_names_the_steps_without_javascript(client, auth, services):
    dossier = dossier_at(services, "recevabilite", "CAB")
    auth.login(dossier.porteur)
    page = client.get(f"/dossiers/{dossier.id}").get_data(as_text=True)
    assert f'data-diagram-url="/dossiers/{dossier.id}/diagram.json"' in page
    assert 'id="diagram-text"' in page and "Examiner la recevabilité" in page
    assert "<script src=" in page and "<script>" not in page  # external script only (CSP)


def test_diagram_data_skips_phases_never_reached():
    main = (
        b'<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
        b'<bpmn:process id="dsdt_candidature" name="Main"><bpmn:callActivity id="p1" calledElement="a"/>'
        b'<bpmn:callActivity id="p2" calledElement="b"/></bpmn:process></bpmn:definitions>'
    )

    def phase(pid: str, task: str) -> bytes:
        return (
            b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
            + f'<bpmn:process id="{pid}" name="{pid}"><bpmn:userTask id="{task}"/></bpmn:process>'.encode()
            + b"</bpmn:definitions>"
        )

    files = {"m.bpmn": main, "a.bpmn": phase("a", "t1"), "b.bpmn": phase("b", "t2"), "x.dmn": b"<x/>"}
    found = diagram_data(files, ["t1"], [], main_process="dsdt_candidature")
    assert [d["process"] for d in found] == ["dsdt_candidature", "a"]
    assert found[0]["done"] == ["p1"] and found[0]["current"] == []
    assert diagram_data({"a.bpmn": phase("a", "t1")}, [], [], main_process="dsdt_candidature") == []
