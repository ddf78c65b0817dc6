"""The demo's Région–EPCI conventions: the three 2013 pilots signed with their seed priorities,
offered to the open campaign's dossiers, and a renewal under negotiation in the open campaign."""

from __future__ import annotations

from sqlalchemy import select

from engine.conventions import offered_priorities
from engine.persistence.models import Instance
from webapp.demo_conventions import PILOTS


def _conventions(services):
    with services.engine.session() as session:
        return session.execute(select(Instance.id, Instance.epci, Instance.campaign_code, Instance.status)
                               .where(Instance.family == "convention").order_by(Instance.id)).all()


def test_the_three_pilots_are_signed_with_their_seed_priorities(services):
    pilots = _conventions(services)[:3]  # seeded first, before any dossier
    signed = {}
    for row in pilots:
        data = services.engine.data(row.id)
        assert data["statut"] == "signee" and row.status == "running"
        assert data["historique_convention"][0]["date_vote_region"].startswith("2013")
        assert [view.bpmn_id for view in services.engine.task_views(row.id)] == ["conv_revue"]
        signed[row.epci] = data["priorites_signees"]
    assert signed == {epci: priorities for epci, (priorities, _, _) in PILOTS.items()}
    assert signed["CAB"] == ["jeunesse", "citoyenneté", "participation des habitants"]
    assert signed["CAAC"] == ["renouvellement urbain", "participation des habitants"]


def test_the_open_campaign_offers_the_pilots_priorities_and_a_renewal_is_negotiated(services):
    code = [c.code for c in services.queries.campaigns(open_only=True)][0]
    offered = offered_priorities(services.engine, code)
    assert offered["CAB"]["priorites"] == PILOTS["CAB"][0]
    assert offered["CAAC"]["priorites"] == PILOTS["CAAC"][0]
    renewals = [row for row in _conventions(services)
                if row.campaign_code == code and services.engine.data(row.id)["statut"] == "en_negociation"]
    assert [row.epci for row in renewals] == ["CAB"]
    data = services.engine.data(renewals[0].id)
    assert [version["avis_region"] for version in data["versions"]] == ["a_revoir", None]
    assert [view.bpmn_id for view in services.engine.task_views(renewals[0].id)] == ["conv_examen"]


def test_a_convention_has_the_dossier_pages_of_any_instance(services, auth):
    renewal = _conventions(services)[3]  # seeded after the three pilots
    view = services.engine.task_views(renewal.id)[0]
    auth.login("instructeur1")
    page = auth.client.get(f"/dossiers/{renewal.id}")
    assert page.status_code == 200, page.status_code
    task = auth.client.get(f"/dossiers/{renewal.id}/etape/{view.ref}")
    assert task.status_code == 200 and "Examiner les priorités proposées" in task.get_data(as_text=True)
    auth.logout()
    auth.login("tech.epci.caac")  # another EPCI's technician
    assert auth.client.get(f"/dossiers/{renewal.id}").status_code in (403, 404)
