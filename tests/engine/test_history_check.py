"""Test against history: per-dossier results (same path, refused, other steps), the background
check's progress in its table, cancel, and the refusals (role, unknown source, bad models)."""

from __future__ import annotations

import pytest

from engine import Actor, Forbidden, Invalid, NotFound
from engine.bpmn.parser import parse_models
from engine.deployments import read_model_files
from engine.history_check import history_results
from engine.history_check_jobs import CANCELLED, DONE, cancel_check, check_status, create_check, run_check
from engine.model_drafts import ModelDrafts
from tests.factories import PORTEUR, Walker

OWNER = Actor("process.owner", frozenset({"process_owner"}))


def _rename_avis_commune(models):
    path = models / "processes/phase_contact.bpmn"
    text = path.read_text().replace('"avis_commune"', '"avis_de_la_commune"')
    path.write_text(text.replace(">avis_commune<", ">avis_de_la_commune<"))


def _dossiers(engine, clock):
    """Three dossiers: one just started, one past the commune's opinion, one waiting for it."""
    walker = Walker(engine, clock)
    fresh, past, waiting = walker.start(PORTEUR), walker.start(PORTEUR), walker.start(PORTEUR)
    walker.through_contact(past)
    walker.do(waiting, "contact", epci="CAB")
    return fresh, past, waiting


def test_each_dossier_is_reported_same_path_or_where_it_diverges(engine, clock, models):
    fresh, past, waiting = _dossiers(engine, clock)
    assert all(result.same_path for result in history_results(engine, parse_models(read_model_files(models))))
    _rename_avis_commune(models)

    results = {result.instance_id: result for result in history_results(engine, parse_models(read_model_files(models)))}

    assert results[fresh].same_path
    assert not results[past].same_path and not results[waiting].same_path
    # the contact entry opens the renamed step where the record opened avis_commune
    assert (results[waiting].kind, results[waiting].command) == ("other_steps", "complete")
    assert "avis_commune" in results[waiting].recorded and "avis_de_la_commune" in results[waiting].found
    assert results[past].entry == results[waiting].entry == 2


def test_a_completed_step_the_new_models_lack_is_a_refused_entry(engine, clock, models):
    fresh, past, waiting = _dossiers(engine, clock)
    # same open steps after contact, but the recorded completion of avis_commune names a task
    # the new models do not have: refused there
    _rename_avis_commune(models)
    result = next(r for r in history_results(engine, parse_models(read_model_files(models))) if r.instance_id == past)
    assert result.entry == 2  # already diverging at the contact's completion (other steps open)
    assert result.detail and "avis_commune" in result.detail


def test_a_check_of_a_draft_writes_its_progress_and_results_to_its_row(engine, clock, models):
    fresh, past, waiting = _dossiers(engine, clock)
    _rename_avis_commune(models)
    ModelDrafts(engine.db, engine.clock).create("renommage", read_model_files(models), "process.owner")

    check_id, parsed = create_check(engine, OWNER, draft="renommage")
    assert check_status(engine, OWNER, check_id).checked == 0
    assert run_check(engine, check_id, parsed) == DONE

    view = check_status(engine, OWNER, check_id)
    assert (view.status, view.total, view.checked, view.same, view.diverged_count) == (DONE, 3, 3, 1, 2)
    assert sorted(item["instance"] for item in view.diverged) == [past, waiting]


def test_cancel_stops_the_check_after_the_dossier_it_is_testing(engine, clock, models):
    _dossiers(engine, clock)
    check_id, parsed = create_check(engine, OWNER, version=1)
    cancel_check(engine, OWNER, check_id)

    assert run_check(engine, check_id, parsed) == CANCELLED

    view = check_status(engine, OWNER, check_id)
    assert (view.status, view.checked, view.total) == (CANCELLED, 1, 3)


def test_refusals_store_nothing(engine, clock, models):
    with pytest.raises(Forbidden):
        create_check(engine, Actor("instructeur.region", frozenset({"instructeur"})), version=1)
    with pytest.raises(NotFound):
        create_check(engine, OWNER, version=99)
    with pytest.raises(NotFound):
        create_check(engine, OWNER, draft="inconnu")
    with pytest.raises(Invalid):
        create_check(engine, OWNER)
    with pytest.raises(NotFound):
        check_status(engine, OWNER, 1)
