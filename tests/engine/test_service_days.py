"""Staff steps are due their campaign's processing time (``delais_traitement``) after they open;
porteur steps keep the deadline their timer enforces."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import Invalid, Queries, campaigns_api
from tests.factories import CAMPAIGN, technicien


def due_of(engine, iid: int) -> dict[str, object]:
    return {step.bpmn_id: step.due_at for step in Queries(engine).dossier(iid).open_steps}


def test_a_staff_step_is_due_its_processing_time_after_it_opens(engine, walker, clock):
    iid = walker.start()
    assert due_of(engine, iid) == {"contact": None}  # the contact préalable has no deadline
    walker.do(iid, "contact", days=2, epci="CAB")
    opened = clock.now()
    days = campaigns_api.DELAIS_TRAITEMENT["avis_commune"]
    assert due_of(engine, iid) == {"avis_commune": opened + timedelta(days=days)}
    # Claiming (an update of the row), a later command, keeps the instant it got when it opened.
    clock.advance(days=3)
    view = walker.view(iid, "avis_commune")
    engine.claim(technicien("technicien_commune", "CAB"), iid, view.ref)
    assert due_of(engine, iid) == {"avis_commune": opened + timedelta(days=days)}
    walker.do(iid, "avis_commune", days=20, avis="favorable")  # done late: the next step has its own time
    assert due_of(engine, iid) == {
        "verification_contact": clock.now() + timedelta(days=campaigns_api.DELAIS_TRAITEMENT["verification_contact"])
    }
    walker.do(iid, "verification_contact", decision="adapte")
    fiche_deadline = engine.data(iid)["campagne"]["date_limite_fiche"]
    assert due_of(engine, iid)["fiche"].isoformat() == fiche_deadline.replace("+01:00", "+00:00").replace(
        "T23:59", "T22:59")  # the porteur's step: the timer's deadline, in UTC


def test_a_campaign_without_processing_times_gives_staff_steps_no_due_date(engine, walker):
    code, libelle, data = campaigns_api.historical_campaign()
    engine.save_campaign(code, libelle, {k: v for k, v in data.items() if k != "delais_traitement"})
    iid = walker.start()
    walker.do(iid, "contact", epci="CAB")
    assert due_of(engine, iid) == {"avis_commune": None}


@pytest.mark.parametrize("bad", [{"recevabilite": 0}, {"recevabilite": 400}, {"recevabilite": 1.5},
                                 {"recevabilite": True}, ["recevabilite"], {"recevabilite": "10"}])
def test_bad_processing_times_are_refused_and_change_nothing(engine, bad):
    code, libelle, data = campaigns_api.historical_campaign()
    with pytest.raises(Invalid) as caught:
        engine.save_campaign(code, libelle, {**data, "delais_traitement": bad})
    assert caught.value.code == "campaign.bad_delay" and caught.value.params["campaign"] == CAMPAIGN
    assert Queries(engine).campaign(CAMPAIGN).data["delais_traitement"] == campaigns_api.DELAIS_TRAITEMENT
