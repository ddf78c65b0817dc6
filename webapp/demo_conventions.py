"""Demo DSDT conventions between the Région and the EPCI, run through the real engine commands.

The three 2013 pilot conventions, signed with their seed priorities (CA du Boulonnais: jeunesse,
citoyenneté, participation des habitants; Artois-Comm: renouvellement urbain, participation des
habitants; Valenciennes Métropole: citoyenneté, jeunesse, lutte contre la précarité énergétique),
waiting for their annual review; and the CA du Boulonnais' renewal for the contrats de ville
2015-2020 under negotiation in the open campaign: a first version returned to the EPCI, the
second waiting for the Région's examination. Each step is completed by a demo account of its
lane's role, so the journal, inboxes and history read as if people had done it.
"""

from __future__ import annotations

from engine import Actor, roles
from engine.conventions import start_convention

INSTRUCTEUR = Actor("instructeur1", frozenset({roles.INSTRUCTEUR}))
CONVENTIONS = Actor("conventions1", frozenset({roles.SERVICE_CONVENTIONS}))

#: EPCI → (seed priorities, council deliberation, commission permanente, signature dates)
PILOTS = {
    "CAB": (["jeunesse", "citoyenneté", "participation des habitants"], "2013-06-27", "2013-07-08"),
    "CAAC": (["renouvellement urbain", "participation des habitants"], "2013-09-26", "2013-10-14"),
    "CAVM": (["citoyenneté", "jeunesse", "lutte contre la précarité énergétique"], "2013-10-17", "2013-11-18"),
}


def _technicien(epci: str) -> Actor:
    return Actor(f"tech.epci.{epci.lower()}", frozenset({roles.TECHNICIEN_EPCI}), frozenset({epci}))


def _complete(engine, iid: int, epci: str, bpmn_id: str, data: dict) -> None:
    view = next(v for v in engine.task_views(iid) if v.bpmn_id == bpmn_id)
    actor = {roles.INSTRUCTEUR: INSTRUCTEUR, roles.TECHNICIEN_EPCI: _technicien(epci),
             roles.SERVICE_CONVENTIONS: CONVENTIONS}[view.role]
    engine.complete(actor, iid, view.ref, data)


def _registered(engine, iid: int, epci: str, adopted: str) -> None:
    _complete(engine, iid, epci, "conv_projet_territoire", {
        "intitule": "Projet de territoire de l'agglomération", "date_adoption": adopted,
        "reference_deliberation": f"CC-{adopted[:4]}-PT",
        "orientations": "Cohésion sociale des quartiers, emploi des jeunes, implication des habitants."})
    _complete(engine, iid, epci, "conv_diagnostic", {
        "date_diagnostic": adopted, "constats": "Chômage des jeunes et isolement dans les quartiers prioritaires.",
        "enjeux": "Faire émerger des projets portés avec les habitants.", "quartiers": "Quartiers prioritaires"})


def sign_pilot(engine, campaign: str, epci: str) -> int:
    """One 2013 pilot convention, negotiated, voted and signed; returns its instance id."""
    priorities, council, commission = PILOTS[epci]
    iid = start_convention(engine, INSTRUCTEUR, campaign, epci)
    _registered(engine, iid, epci, "2013-03-14")
    _complete(engine, iid, epci, "conv_proposition", {"priorites": priorities,
                                                        "commentaire": "Priorités issues du projet de territoire."})
    _complete(engine, iid, epci, "conv_examen", {"decision": "accord", "date_examen": "2013-05-21"})
    _complete(engine, iid, epci, "conv_deliberation_epci", {
        "vote": "adoptee", "date_seance": council, "numero_deliberation": f"CC-{council}"})
    _complete(engine, iid, epci, "conv_vote_cp", {
        "vote": "adoptee", "date_seance": commission, "numero_deliberation": f"CP-{commission.replace('-', '')}"})
    _complete(engine, iid, epci, "conv_signature_epci", {"date_signature": commission, "signataire": "Le président"})
    _complete(engine, iid, epci, "conv_signature_region", {
        "date_signature": commission, "signataire": "Le président du Conseil régional"})
    return iid


def negotiate_renewal(engine, campaign: str, epci: str = "CAB") -> int:
    """A renewed convention under negotiation: version 1 returned to the EPCI, version 2 waiting
    for the Région's examination (the pilot one stays in force meanwhile)."""
    iid = start_convention(engine, _technicien(epci), campaign, epci)
    _registered(engine, iid, epci, "2014-12-11")
    _complete(engine, iid, epci, "conv_proposition", {"priorites": ["jeunesse", "participation des habitants"]})
    _complete(engine, iid, epci, "conv_examen", {
        "decision": "a_revoir", "date_examen": "2015-01-20",
        "commentaire": "Ajouter la citoyenneté, priorité du contrat de ville.",
        "contre_proposition": ["jeunesse", "citoyenneté", "participation des habitants"]})
    _complete(engine, iid, epci, "conv_proposition", {
        "priorites": ["jeunesse", "citoyenneté", "participation des habitants", "accès aux droits"],
        "commentaire": "Citoyenneté ajoutée ; nous proposons aussi l'accès aux droits."})
    return iid


def seed_conventions(engine, pilot_campaign: str, open_campaign: str) -> int:
    """The pilot conventions in ``pilot_campaign`` and the renewal in ``open_campaign``; the count."""
    for epci in PILOTS:
        sign_pilot(engine, pilot_campaign, epci)
    negotiate_renewal(engine, open_campaign)
    return len(PILOTS) + 1
