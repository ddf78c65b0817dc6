"""Where the open campaign's demo applications stop, and how long ago their open step opened.

Each stage is driven by engine commands on a virtual clock set back ``age`` days, so a staff step
opened ``age`` days ago is overdue when its processing time (the campaign's
``delais_traitement``) is shorter, and due soon when it is just longer: the inboxes show both. The
first listed technicians (Boulonnais) have work; porteur1, the first listed porteur, has a fiche
returned "à compléter" with its reason, a contact to rework with advice and a list of missing
documents to supply, so every request a porteur can receive is on show at first login.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: what the EPCI says when it returns a fiche
MOTIF_A_COMPLETER = (
    "Précisez le public visé (nombre de jeunes et quartiers concernés) et le calendrier des ateliers ; "
    "le budget prévisionnel doit faire apparaître les cofinancements."
)
#: the EPCI technicien's advice on a contact to rework
CONSEILS = (
    "Le projet doit s’inscrire dans une priorité du contrat de ville : rapprochez-vous du centre social "
    "du quartier et reformulez l’idée autour de la participation des habitants."
)
#: the instructeur's list of missing documents
PIECES_MANQUANTES = (
    "Statuts signés de l’association ; RIB au nom de l’association ; comptes approuvés du dernier exercice ; "
    "lettre d’engagement du partenaire principal."
)
#: the jury president's instructions to the porteur of an adjourned dossier
CONSIGNES = (
    "Le jury souhaite un plan d’évaluation chiffré et l’accord écrit du bailleur pour la salle du quartier. "
    "Représentez le dossier à la prochaine session."
)


@dataclass(frozen=True)
class Stage:
    """An application of the open campaign, driven until ``stop_at`` opens (None: to its end)."""

    stop_at: str | None
    epci: str
    porteur: str
    #: days since the open step opened (the commands run on a clock set back this far)
    age: float
    #: decisions overriding the happy path, by step (None leaves a generated field out)
    overrides: dict = field(default_factory=dict)
    #: a step that must be done before stopping (for a step that opens twice: a returned fiche)
    after: str | None = None


STAGES = [
    Stage("contact", "CAB", "porteur1", 0),
    Stage("contact", "CAB", "porteur1", 2,
          {"verification_contact": {"decision": "a_retravailler", "conseils": CONSEILS, "motif": None}},
          after="verification_contact"),
    Stage("avis_commune", "CAB", "porteur2", 13),  # overdue (10 days)
    Stage("avis_commune", "CAB", "porteur4", 8),  # due in 2 days
    Stage("avis_commune", "CAVM", "porteur3", 1),
    Stage("verification_contact", "CAB", "porteur4", 8),  # due in 2 days
    Stage("verification_contact", "CAAC", "porteur2", 2),
    Stage("fiche", "CAB", "porteur1", 3),
    Stage("fiche", "CAB", "porteur1", 1, {"adequation_epci": {"decision": "a_completer", "motif": MOTIF_A_COMPLETER}},
          after="adequation_epci"),
    Stage("adequation_epci", "CAB", "porteur3", 18),  # overdue (15 days)
    Stage("adequation_epci", "CAVM", "porteur4", 4),
    Stage("dossier", "CAAC", "porteur2", 5),
    Stage("recevabilite", "CAB", "porteur3", 25),  # overdue (21 days)
    Stage("recevabilite", "CAVM", "porteur4", 19),  # due in 2 days
    Stage("complements", "CAB", "porteur1", 2,
          {"recevabilite": {"decision": "incomplet", "pieces_manquantes": PIECES_MANQUANTES, "motif": None,
                            "mobilisation_habitants": None}}),
    Stage("examen_territorial", "CAB", "porteur2", 23),  # due at its jury session
    Stage("examen_regional", "CAAC", "porteur3", 5),
    # Every regional member declares a conflict of interest: no quorum, the instructeur reconvenes the jury.
    Stage("reconstitution_jury", "CAAC", "porteur2", 6, {"examen_regional": {"conflit_interet": True}}),
    Stage("confirmation_president", "CAVM", "porteur4", 9),  # due at the jury session
    Stage("commission_permanente", "CAB", "porteur1", 10),
    Stage("redaction_convention", "CAVM", "porteur2", 33),  # overdue (30 days)
    Stage("signature_porteur", "CAB", "porteur2", 3),
    Stage("signature_region", "CAAC", "porteur3", 13),  # due in 2 days
    Stage("notification_convention", "CAVM", "porteur4", 2),
    Stage(None, "CAB", "porteur1", 5),  # conventionné
    Stage(None, "CAVM", "porteur3", 20, {"recevabilite": {
        "decision": "recevable", "mobilisation_habitants": "insuffisante",
        "motif": "La participation des habitants se limite à une réunion d’information : critère éliminatoire.",
    }}),
    Stage("remaniement_dossier", "CAB", "porteur3", 4, {"confirmation_president": {
        "avis_final": "ajourne", "motivation": "Projet intéressant mais évaluation insuffisante.",
        "consignes_porteur": CONSIGNES,
    }}),
]
