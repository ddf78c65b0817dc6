"""Drafts (engine.drafts) and checking a form without completing it (WorkflowEngine.form_errors)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import DraftStore, Invalid
from engine.forms import MAX_FORM_BYTES
from tests.factories import PORTEUR


def _snapshot(engine, iid):
    row = engine.instance(iid)
    return row.version, row.journal_seq, row.journal_head


def test_form_errors_are_those_complete_would_give_and_nothing_changes(walker, engine):
    iid = walker.start()
    view = walker.view(iid, "contact")
    data = walker.form(view, epci="CAB")
    del data["titre_projet"]
    data["siret"] = "123"
    before = _snapshot(engine, iid)
    deployment_id = engine.instance(iid).deployment_id
    errors = engine.form_errors(deployment_id, view.form, data)
    with pytest.raises(Invalid) as caught:
        engine.complete(PORTEUR, iid, view.ref, data)
    assert errors == caught.value.errors and {"titre_projet", "siret"} <= set(errors)
    assert engine.form_errors(deployment_id, view.form, walker.form(view, epci="CAB")) == {}
    assert _snapshot(engine, iid) == before


def test_a_draft_keeps_its_data_and_the_time_of_its_last_save(walker, engine, clock):
    iid = walker.start()
    ref = walker.view(iid, "contact").ref
    drafts = DraftStore(engine.db, clock)
    assert drafts.get("porteur1", iid, ref) is None
    drafts.save("porteur1", iid, ref, {"organisation": "Asso"})
    first = drafts.get("porteur1", iid, ref).saved_at
    clock.advance(minutes=7)
    drafts.save("porteur1", iid, ref, {"organisation": "Asso 2"})
    saved = drafts.get("porteur1", iid, ref)
    assert saved.data == {"organisation": "Asso 2"} == drafts.load("porteur1", iid, ref)
    assert saved.saved_at - first == timedelta(minutes=7)
    with pytest.raises(Invalid) as caught:
        drafts.save("porteur1", iid, ref, {"organisation": "x" * MAX_FORM_BYTES})
    assert caught.value.code == "draft.too_large"
    assert drafts.load("porteur1", iid, ref) == {"organisation": "Asso 2"}  # the earlier draft stays
    drafts.discard("porteur1", iid, ref)
    assert drafts.get("porteur1", iid, ref) is None
