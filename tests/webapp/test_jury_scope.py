"""One source of truth for who examines a dossier: the jury sessions of the campaign snapshot the
dossier started with (journaled with its start). The engine assigns the jury's tasks from it; the
inbox, the task page, the dossier page and the API must read the same, not the campaign's
current data, which an administrator may have edited since."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import quote

from engine import JuryAdmin

from .conftest import choice_value, field_name

REMOVED = "jury.cab.elu1"  # in the CAB jury when the dossier started, removed afterwards
ADDED = "jury.cavm.elu1"  # added to the CAB jury afterwards: no task, no access


@contextmanager
def cab_jury_changed(services):
    """The CAB jury loses REMOVED (term ended) and gains ADDED (seated), for the test's duration:
    juries are data (engine.juries), changed by the administration, never the campaign's."""
    admin = JuryAdmin(services.engine.db)
    _row, seats, sessions = admin.jury("TERR-CAB")
    removed = next(seat for seat in seats if seat.login == REMOVED)
    before = min(session.day for session in sessions) - timedelta(days=1)
    admin.set_term_end(removed.id, max(before, removed.term_start))
    added = admin.add_seat("TERR-CAB", login=ADDED, full_name="Élu ajouté", kind="elu_intercommunal", epci="CAB",
                           president=False, term_start=removed.term_start, term_end=None)
    try:
        yield
    finally:
        admin.remove_seat(added)
        admin.set_term_end(removed.id, None)


def test_the_dossiers_snapshot_decides_who_examines_it(client, auth, services, make_dossier):
    instance_id = make_dossier("examen_territorial", "CAB", porteur="porteur4")
    dossier = services.queries.dossier(instance_id)
    step = next(s for s in dossier.open_steps if s.assignee == REMOVED)
    url = f"/dossiers/{instance_id}/etape/{step.task_ref}"
    token = services.accounts.create_token(REMOVED, "tests")
    bearer = {"Authorization": f"Bearer {token}"}
    with cab_jury_changed(services):
        auth.login(REMOVED)
        # the inbox, the dossier page, the task page and the API all still give the member their task
        assert quote(url) in client.get("/taches/").get_data(as_text=True)
        assert client.get(f"/dossiers/{instance_id}").status_code == 200
        assert dossier.ref in client.get("/dossiers/tous").get_data(as_text=True)
        page = client.get(url)
        assert page.status_code == 200, page.status_code
        api = client.get(f"/api/dossiers/{instance_id}/tasks/{step.task_ref}", headers=bearer)
        assert api.status_code == 200 and api.get_json()["assignee"] == REMOVED
        inbox = client.get("/api/tasks", headers=bearer)
        assert inbox.status_code == 200 and step.task_ref in json.dumps(inbox.get_json())
        assert client.get(f"/api/dossiers/{instance_id}", headers=bearer).status_code == 200
        # and the engine lets them act
        text = page.get_data(as_text=True)
        name = field_name(text, "conflit_interet")
        done = auth.post(url, {name: choice_value(text, name, "true"), "version": services.queries.dossier(
            instance_id).version, "action": "valider"})
        assert done.status_code == 302, done.get_data(as_text=True)
        assert all(s.assignee != REMOVED for s in services.queries.dossier(instance_id).open_steps)

        # Someone added to the campaign's jury after the start has no task and no access.
        auth.logout()
        auth.login(ADDED)
        assert client.get(f"/dossiers/{instance_id}").status_code == 403
        assert dossier.ref not in client.get("/dossiers/tous").get_data(as_text=True)
        # ... nor through the API: not in their tasks or dossiers, the dossier and its steps refused
        added = {"Authorization": f"Bearer {services.accounts.create_token(ADDED, 'tests')}"}
        tasks = client.get("/api/tasks", headers=added)
        assert tasks.status_code == 200 and dossier.ref not in json.dumps(tasks.get_json())
        listed = client.get("/api/dossiers", headers=added)
        assert listed.status_code in (200, 403) and dossier.ref not in json.dumps(listed.get_json())
        assert client.get(f"/api/dossiers/{instance_id}", headers=added).status_code in (403, 404)
        open_step = next(s for s in services.queries.dossier(instance_id).open_steps if s.bpmn_id == step.bpmn_id)
        version = services.queries.dossier(instance_id).version
        refused = client.post(f"/api/dossiers/{instance_id}/tasks/{open_step.task_ref}/complete", headers=added,
                              json={"data": {"conflit_interet": True}})
        assert refused.status_code in (403, 404), refused.get_json()
        assert services.queries.dossier(instance_id).version == version
