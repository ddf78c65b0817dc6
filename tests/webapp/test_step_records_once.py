"""The task and dossier pages read and render each earlier step once, though they show it in two
lists (the earlier steps, and what the staff asked of the porteur)."""

from __future__ import annotations

import json

from webapp import presenters


def _counting(monkeypatch) -> list:
    calls = []
    render = presenters.render_readonly

    def counted(schema, ui, data, context=None):
        calls.append(data)
        return render(schema, ui, data, context=context)

    monkeypatch.setattr(presenters, "render_readonly", counted)
    return calls


def test_each_step_record_is_rendered_once(services, make_dossier, client, auth, monkeypatch):
    instance_id = make_dossier("fiche", "CAB", porteur="porteur1",
                               overrides={"verification_contact": {"decision": "adapte", "conseils": "Précisez"}})
    view = next(v for v in services.engine.task_views(instance_id) if v.bpmn_id == "fiche")
    auth.login("porteur1")
    calls = _counting(monkeypatch)
    for url in (f"/dossiers/{instance_id}/etape/{view.ref}", f"/dossiers/{instance_id}"):
        calls.clear()
        body = client.get(url).get_data(as_text=True)
        assert calls, "the porteur reads their contact and the staff's answers"
        assert len(calls) == len({json.dumps(data, sort_keys=True, default=str) for data in calls})
        assert len(calls) <= len([e for e in services.queries.timeline(instance_id) if e.command == "complete"])
        assert "Traceback" not in body
