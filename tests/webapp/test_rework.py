"""An adjourned dossier: the porteur's rework step shows what the jury asks them to rework."""

from __future__ import annotations

import json

CONSIGNES = "Associez le conseil citoyen du quartier au comité de pilotage."
MOTIVATION = "Délibération interne : partenariat jugé trop faible par deux élus."


def test_the_rework_page_shows_the_jurys_instructions_to_the_porteur(client, auth, services, make_dossier):
    instance_id = make_dossier("remaniement_dossier", "CAB", porteur="porteur2", overrides={
        "confirmation_president": {"avis_final": "ajourne", "motivation": MOTIVATION, "consignes_porteur": CONSIGNES},
    })
    step = next(s for s in services.queries.dossier(instance_id).open_steps if s.bpmn_id == "remaniement_dossier")
    assert step.assignee == "porteur2"
    auth.login("porteur2")
    page = client.get(f"/dossiers/{instance_id}/etape/{step.task_ref}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert CONSIGNES in body  # addressed to the porteur
    assert MOTIVATION not in body  # the president's reasons stay internal
    # The API answers the same: the instructions in the porteur's requests, never the reasons.
    bearer = {"Authorization": f"Bearer {services.accounts.create_token('porteur2', 'tests')}"}
    dossier = client.get(f"/api/dossiers/{instance_id}", headers=bearer)
    assert dossier.status_code == 200
    assert any(CONSIGNES in json.dumps(r["data"], ensure_ascii=False) for r in dossier.get_json()["requests"])
    task = client.get(f"/api/dossiers/{instance_id}/tasks/{step.task_ref}", headers=bearer)
    assert task.status_code == 200
    for answer in (dossier, task):
        assert MOTIVATION not in json.dumps(answer.get_json(), ensure_ascii=False)
