"""The Région–EPCI DSDT convention (``processes/convention_dsdt.bpmn``, family ``convention``),
one scenario per path, on the durable engine in every restore mode (``conftest.py``: warm, and
a cold load before every command from a stored state or the journal alone); ``verify`` then
replays each convention like any dossier."""

from __future__ import annotations

import pytest

from engine import Actor, Conflict, Forbidden, Invalid
from engine.conventions import offered_priorities, signed_convention, start_convention
from engine.persistence.models import Instance
from tests.factories import CAMPAIGN, INSTRUCTEUR, PORTEUR, technicien

EPCI_TECH = technicien("technicien_epci", "CAB")
CONVENTIONS = Actor("conventions.region", frozenset({"service_conventions"}))
PRIORITES = ["jeunesse", "citoyenneté", "participation des habitants"]


class Convention:
    """Completes a convention's steps, each by the role of its lane."""

    def __init__(self, engine, clock, epci: str = "CAB"):
        self.engine, self.clock, self.epci = engine, clock, epci
        self.iid = start_convention(engine, INSTRUCTEUR, CAMPAIGN, epci)

    def steps(self) -> list[str]:
        return [view.bpmn_id for view in self.engine.task_views(self.iid)]

    def do(self, bpmn_id: str, **data) -> None:
        self.clock.advance(days=7)
        views = [view for view in self.engine.task_views(self.iid) if view.bpmn_id == bpmn_id]
        assert views, f"{bpmn_id} is not open; open steps: {self.steps()}"
        actor = {"technicien_epci": technicien("technicien_epci", self.epci), "instructeur": INSTRUCTEUR,
                 "service_conventions": CONVENTIONS}[views[0].role]
        self.engine.complete(actor, self.iid, views[0].ref, data)

    def today(self) -> str:
        return self.clock.now().date().isoformat()

    def registered(self) -> None:
        self.do("conv_projet_territoire", intitule="Projet de territoire 2014-2020", date_adoption="2013-06-27",
                orientations="Cohésion sociale, jeunesse et participation des habitants.")
        self.do("conv_diagnostic", date_diagnostic=self.today(),
                constats="Chômage des jeunes élevé dans trois quartiers.",
                enjeux="Insertion des jeunes et implication des habitants.")

    def propose(self, priorites, decision="accord", **examen) -> None:
        self.do("conv_proposition", priorites=priorites, commentaire="Version de l'EPCI.")
        self.do("conv_examen", decision=decision, date_examen=self.today(), **examen)

    def votes(self, epci="adoptee", region="adoptee") -> None:
        self.do("conv_deliberation_epci", vote=epci, date_seance=self.today(), numero_deliberation="CC-2014-17",
                **({"motif": "Le conseil souhaite d'autres priorités."} if epci != "adoptee" else {}))
        if epci == "adoptee":
            self.do("conv_vote_cp", vote=region, date_seance=self.today(), numero_deliberation="CP-20140412",
                    **({"motif": "Crédits insuffisants."} if region != "adoptee" else {}))

    def sign(self) -> None:
        self.do("conv_signature_epci", date_signature=self.today(), signataire="Le président de la CAB")
        self.do("conv_signature_region", date_signature=self.today(), signataire="Le président du Conseil régional")

    def data(self) -> dict:
        return self.engine.data(self.iid)

    def row(self):
        with self.engine.session() as session:
            return session.get(Instance, self.iid)


def test_convention_signed_sets_the_priorities_a_campaign_offers(engine, clock):
    convention = Convention(engine, clock)
    assert convention.steps() == ["conv_projet_territoire"]
    convention.registered()
    convention.propose(PRIORITES)
    convention.votes()
    convention.sign()
    data = convention.data()
    assert data["statut"] == "signee" and data["version_convention"] == 1
    assert data["priorites_signees"] == PRIORITES
    assert data["historique_convention"][0]["deliberation_epci"] == "CC-2014-17"
    assert data["historique_convention"][0]["vote_region"] == "CP-20140412"
    assert convention.steps() == ["conv_revue"]
    assert convention.row().epci == "CAB" and convention.row().title == "Convention DSDT CA du Boulonnais"
    ref = convention.row().ref
    assert ref.startswith(f"{CAMPAIGN}-CONV-")
    assert signed_convention(engine, "CAB") == (ref, PRIORITES)
    assert offered_priorities(engine, CAMPAIGN) == {"CAB": {"priorites": PRIORITES, "convention": ref}}
    # a dossier started now is offered the convention's priorities, not the campaign's typed ones
    dossier = engine.start(PORTEUR, CAMPAIGN)
    assert engine.data(dossier)["campagne"]["epci"]["CAB"]["priorites"] == PRIORITES
    assert engine.data(dossier)["campagne"]["epci"]["CAB"]["convention"] == ref
    assert "convention" not in engine.data(dossier)["campagne"]["epci"]["CAAC"]


def test_negotiation_returns_to_the_epci_then_agrees_on_a_later_version(engine, clock):
    convention = Convention(engine, clock)
    convention.registered()
    convention.propose(["jeunesse"], decision="a_revoir", commentaire="Ajouter la participation des habitants.",
                       contre_proposition=["jeunesse", "participation des habitants"])
    assert convention.steps() == ["conv_proposition"]  # the return loop
    convention.propose(["jeunesse", "participation des habitants"])
    data = convention.data()
    assert [v["version"] for v in data["versions"]] == [1, 2]
    assert data["versions"][0]["avis_region"] == "a_revoir"
    assert data["versions"][0]["commentaire_region"] == "Ajouter la participation des habitants."
    assert data["versions"][1]["avis_region"] == "accord"
    assert data["statut"] == "en_negociation" and data["priorites_signees"] == []
    assert signed_convention(engine, "CAB") is None  # not signed yet: nothing offered
    convention.votes()
    convention.sign()
    assert convention.data()["priorites_signees"] == ["jeunesse", "participation des habitants"]


@pytest.mark.parametrize("side", ["epci", "region"])
def test_convention_refused_by_a_vote_ends_with_its_reason(engine, clock, side):
    convention = Convention(engine, clock)
    convention.registered()
    convention.propose(PRIORITES)
    convention.votes(**{side: "rejetee"})
    row = convention.row()
    assert (row.status, row.outcome) == ("completed", "refusee")
    expected = {"epci": "conseil communautaire (délibération CC-2014-17",
                "region": "commission permanente (délibération CP-20140412"}[side]
    assert expected in row.reason
    assert signed_convention(engine, "CAB") is None


def test_negotiation_abandoned_with_its_reason(engine, clock):
    convention = Convention(engine, clock)
    convention.registered()
    convention.propose(PRIORITES, decision="abandon", commentaire="Le projet de territoire est en révision.")
    row = convention.row()
    assert (row.status, row.outcome) == ("completed", "abandonnee")
    assert "Le projet de territoire est en révision." in row.reason


def test_annual_review_amends_by_avenant_and_versions_the_convention(engine, clock):
    convention = Convention(engine, clock)
    convention.registered()
    convention.propose(PRIORITES)
    convention.votes()
    convention.sign()
    convention.do("conv_revue", decision="maintenue", date_revue=convention.today(), bilan="Année conforme.")
    assert convention.steps() == ["conv_revue"]  # next year's review
    convention.do("conv_revue", decision="avenant", date_revue=convention.today(), motif="Ajouter la santé.")
    assert convention.data()["statut"] == "avenant_en_negociation"
    # while the avenant is negotiated, the signed version stays in force
    assert signed_convention(engine, "CAB")[1] == PRIORITES
    convention.propose([*PRIORITES, "santé"])
    # an avenant refused by a vote keeps the signed version
    convention.votes(region="rejetee")
    data = convention.data()
    assert data["statut"] == "signee" and data["version_convention"] == 1
    assert data["avenants_non_conclus"][0]["issue"] == "refusee"
    assert convention.steps() == ["conv_revue"]
    convention.do("conv_revue", decision="avenant", date_revue=convention.today(), motif="Ajouter la santé.")
    convention.propose([*PRIORITES, "santé"])
    convention.votes()
    convention.sign()
    data = convention.data()
    assert data["version_convention"] == 2 and data["priorites_signees"] == [*PRIORITES, "santé"]
    assert [h["version"] for h in data["historique_convention"]] == [1, 2]
    assert signed_convention(engine, "CAB")[1] == [*PRIORITES, "santé"]
    convention.do("conv_revue", decision="terme", date_revue=convention.today(), motif="Fin du contrat de ville.")
    row = convention.row()
    assert (row.status, row.outcome) == ("completed", "terminee")
    assert signed_convention(engine, "CAB") is None  # ended: no longer offered


def test_who_may_open_a_convention(engine, clock):
    with pytest.raises(Forbidden):
        start_convention(engine, PORTEUR, CAMPAIGN, "CAB")
    with pytest.raises(Forbidden):
        start_convention(engine, technicien("technicien_epci", "CAAC"), CAMPAIGN, "CAB")
    with pytest.raises(Invalid):
        start_convention(engine, INSTRUCTEUR, CAMPAIGN, "NOPE")
    start_convention(engine, EPCI_TECH, CAMPAIGN, "CAB")
    with pytest.raises(Conflict):  # one convention under negotiation per EPCI
        start_convention(engine, INSTRUCTEUR, CAMPAIGN, "CAB")


def test_a_renewal_is_negotiated_while_the_signed_convention_stays_in_force(engine, clock):
    first = Convention(engine, clock)
    first.registered()
    first.propose(PRIORITES)
    first.votes()
    first.sign()
    renewal = Convention(engine, clock)  # allowed: the first one is signed
    renewal.registered()
    renewal.propose(["jeunesse", "accès aux droits"])
    assert signed_convention(engine, "CAB") == (first.row().ref, PRIORITES)  # not signed yet
    renewal.votes()
    renewal.sign()
    assert signed_convention(engine, "CAB") == (renewal.row().ref, ["jeunesse", "accès aux droits"])
    first.do("conv_revue", decision="terme", date_revue=first.today(), motif="Remplacée par la convention 2015-2020.")
    assert first.row().outcome == "terminee"
    assert signed_convention(engine, "CAB")[0] == renewal.row().ref


def test_convention_steps_are_scoped_to_their_epci(engine, clock):
    convention = Convention(engine, clock)
    view = engine.task_views(convention.iid)[0]
    with pytest.raises(Forbidden):
        engine.complete(technicien("technicien_epci", "CAAC"), convention.iid, view.ref, {
            "intitule": "Projet", "date_adoption": "2013-06-27", "orientations": "Orientations du projet."})
