"""Bad input never changes an instance: invalid forms, stale or foreign tasks, wrong roles."""

from __future__ import annotations

import pytest

from engine import Actor, Conflict, Forbidden, Invalid, NotFound
from tests.factories import INSTRUCTEUR, OTHER_PORTEUR, PORTEUR, technicien


def _snapshot(engine, iid):
    row = engine.instance(iid)
    return row.version, row.journal_seq, row.journal_head


def test_invalid_form_data_is_refused_with_per_field_errors_and_nothing_changes(walker, engine):
    iid = walker.start()
    view = walker.view(iid, "contact")
    before = _snapshot(engine, iid)
    data = walker.form(view, epci="NOWHERE")
    del data["titre_projet"]
    data["siret"] = "123"
    with pytest.raises(Invalid) as caught:
        engine.complete(PORTEUR, iid, view.ref, data)
    errors = caught.value.errors
    assert "titre_projet" in errors and "epci" in errors and "siret" in errors
    assert _snapshot(engine, iid) == before
    assert walker.steps(iid) == ["contact"]


def test_form_data_must_be_an_object(walker, engine):
    iid = walker.start()
    with pytest.raises(Invalid):
        engine.complete(PORTEUR, iid, walker.view(iid, "contact").ref, ["not", "a", "form"])


def test_completing_a_task_already_completed_is_a_conflict(walker, engine):
    iid = walker.start()
    view = walker.view(iid, "contact")
    engine.complete(PORTEUR, iid, view.ref, walker.form(view, epci="CAB"))
    before = _snapshot(engine, iid)
    with pytest.raises(Conflict):
        engine.complete(PORTEUR, iid, view.ref, walker.form(view, epci="CAB"))
    assert _snapshot(engine, iid) == before


def test_a_stale_version_is_a_conflict(walker, engine):
    iid = walker.start()
    version = engine.instance(iid).version
    walker.do(iid, "contact", epci="CAB")
    view = walker.view(iid, "avis_commune")
    with pytest.raises(Conflict):
        engine.complete(technicien("technicien_commune", "CAB"), iid, view.ref, walker.form(view, avis="favorable"),
                        expected_version=version)


def test_unknown_task_and_instance(walker, engine):
    iid = walker.start()
    with pytest.raises(NotFound):
        engine.complete(PORTEUR, iid, "phase_contact.0/nope.0", {})
    with pytest.raises(NotFound):
        engine.complete(PORTEUR, 999_999, "phase_contact.0/contact.0", {})


@pytest.mark.parametrize("actor", [
    OTHER_PORTEUR,  # the right role, but not the porteur of this application
    INSTRUCTEUR,  # a role outside the lane
    Actor("nobody"),
])
def test_the_porteurs_step_is_refused_to_anyone_else(walker, engine, actor):
    iid = walker.start()
    view = walker.view(iid, "contact")
    with pytest.raises(Forbidden):
        engine.complete(actor, iid, view.ref, walker.form(view, epci="CAB"))


def test_a_technicien_of_another_epci_is_refused(walker, engine):
    iid = walker.start()
    walker.do(iid, "contact", epci="CAB")
    view = walker.view(iid, "avis_commune")
    with pytest.raises(Forbidden):
        engine.complete(technicien("technicien_commune", "CAVM"), iid, view.ref, walker.form(view, avis="favorable"))


def test_a_jury_member_cannot_score_for_another(walker, engine):
    iid = walker.start()
    walker.to_jury(iid)
    first, second = engine.task_views(iid)[:2]
    impostor = Actor(second.assignee, frozenset({second.role}))
    with pytest.raises(Forbidden):
        engine.complete(impostor, iid, first.ref, walker.form(first, conflit_interet=True))


def test_claim_unclaim_delegate(walker, engine):
    iid = walker.start()
    walker.do(iid, "contact", epci="CAB")
    view = walker.view(iid, "avis_commune")
    alice = technicien("technicien_commune", "CAB")
    bob = Actor("bob", frozenset({"technicien_commune"}), frozenset({"CAB"}))
    engine.claim(alice, iid, view.ref)
    with pytest.raises(Conflict):  # bob cannot complete or claim what alice holds
        engine.complete(bob, iid, view.ref, walker.form(view, avis="favorable"))
    with pytest.raises(Conflict):
        engine.unclaim(bob, iid, view.ref)
    assert engine.open_tasks(bob)[1] == 0  # a task claimed by someone else leaves bob's inbox
    engine.delegate(alice, iid, view.ref, bob)
    assert engine.task_views(iid)[0].claimed_by == "bob"
    with pytest.raises(Forbidden):  # a colleague outside the EPCI cannot receive it
        engine.delegate(bob, iid, view.ref, technicien("technicien_commune", "CAVM"))
    engine.unclaim(bob, iid, view.ref)
    engine.complete(alice, iid, view.ref, walker.form(view, avis="favorable"))
    assert walker.steps(iid) == ["verification_contact"]


def test_only_a_porteur_starts_and_only_their_porteur_withdraws(walker, engine):
    with pytest.raises(Forbidden):
        engine.start(INSTRUCTEUR, "DSDT-2014")
    iid = walker.start()
    with pytest.raises(Forbidden):
        engine.withdraw(OTHER_PORTEUR, iid, "Je retire")
    with pytest.raises(Invalid):
        engine.withdraw(PORTEUR, iid, "  ")
    engine.withdraw(PORTEUR, iid, "Je retire")
    with pytest.raises(Conflict):
        engine.withdraw(PORTEUR, iid, "Encore")


def test_a_closed_campaign_takes_no_new_application(engine):
    from engine import campaigns_api

    code, libelle, data = campaigns_api.historical_campaign()
    engine.save_campaign(code, libelle, data, is_open=False)
    with pytest.raises(Conflict):
        engine.start(PORTEUR, code)


def test_inbox_scope_by_role_and_epci(walker, engine):
    for epci in ("CAB", "CAVM"):
        iid = walker.start()
        walker.do(iid, "contact", epci=epci)
    cab = technicien("technicien_commune", "CAB")
    rows, total = engine.open_tasks(cab)
    assert total == 1 and rows[0].epci == "CAB"
    assert engine.open_tasks(Actor("x", frozenset({"technicien_commune"}), frozenset({"CAAC"})))[1] == 0
    assert engine.open_tasks(INSTRUCTEUR)[1] == 0
