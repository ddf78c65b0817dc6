"""Simulated Région–EPCI conventions (``processes/convention_dsdt.bpmn``) on the durable engine.

Each convention follows one path, drawn from a seeded rotation so that a run of at least
:data:`PATHS` conventions takes every one: signed at once, signed after a return loop in the
negotiation, signed then amended by an avenant, refused by the EPCI council, refused by the
Région's commission permanente. Conventions run one after the other, each to its end or its
signature, so an EPCI never has two under negotiation; they run after the dossiers (their own
random stream), so the dossiers of a run are the same with or without them. The in-memory
baseline has no conventions: they are reported apart, not in the durable/in-memory ratio.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from ..commands import Actor
from ..conventions import start_convention
from ..persistence.models import JournalEntry
from ..roles import INSTRUCTEUR, SERVICE_CONVENTIONS, TECHNICIEN_EPCI

#: every path a simulated convention can take
PATHS = ("signee", "signee_apres_retour", "avenant", "refusee_epci", "refusee_region")
_THEMES = ("jeunesse", "citoyenneté", "participation des habitants", "rénovation urbaine", "santé",
           "accès aux droits", "emploi des jeunes")


class _Convention:
    def __init__(self, engine, clock, rng: random.Random, campaign_code: str, epci: str):
        self.engine, self.clock, self.rng, self.epci = engine, clock, rng, epci
        self.actors = {
            TECHNICIEN_EPCI: Actor(f"{TECHNICIEN_EPCI}.{epci}", frozenset({TECHNICIEN_EPCI}), frozenset({epci})),
            INSTRUCTEUR: Actor(f"{INSTRUCTEUR}.region", frozenset({INSTRUCTEUR})),
            SERVICE_CONVENTIONS: Actor(f"{SERVICE_CONVENTIONS}.region", frozenset({SERVICE_CONVENTIONS})),
        }
        self.iid = start_convention(engine, self.actors[TECHNICIEN_EPCI], campaign_code, epci)

    def today(self) -> str:
        return self.clock.now().date().isoformat()

    def do(self, bpmn_id: str, **data) -> None:
        self.clock.set(self.clock.now() + timedelta(days=self.rng.uniform(2, 20)))
        view = next(v for v in self.engine.task_views(self.iid) if v.bpmn_id == bpmn_id)
        self.engine.complete(self.actors[view.role], self.iid, view.ref, data)

    def priorities(self) -> list[str]:
        return self.rng.sample(_THEMES, self.rng.randint(2, 4))

    def negotiate(self, loop: bool) -> list[str]:
        priorites = self.priorities()
        if loop:
            counter = sorted({*priorites, self.rng.choice(_THEMES)}, key=_THEMES.index)
            self.do("conv_proposition", priorites=priorites, commentaire="Première version de l'EPCI.")
            self.do("conv_examen", decision="a_revoir", date_examen=self.today(),
                    commentaire="La Région propose une autre priorité.", contre_proposition=counter)
            priorites = counter
        self.do("conv_proposition", priorites=priorites, commentaire="Version soumise aux votes.")
        self.do("conv_examen", decision="accord", date_examen=self.today())
        return priorites

    def votes(self, epci: str = "adoptee", region: str = "adoptee") -> None:
        number = self.iid
        self.do("conv_deliberation_epci", vote=epci, date_seance=self.today(), numero_deliberation=f"CC-{number}",
                **({"motif": "Le conseil souhaite d'autres priorités."} if epci != "adoptee" else {}))
        if epci == "adoptee":
            self.do("conv_vote_cp", vote=region, date_seance=self.today(), numero_deliberation=f"CP-{number}",
                    **({"motif": "Crédits insuffisants."} if region != "adoptee" else {}))

    def sign(self) -> None:
        self.do("conv_signature_epci", date_signature=self.today(), signataire=f"Le président de {self.epci}")
        self.do("conv_signature_region", date_signature=self.today(), signataire="Le président du Conseil régional")

    def register(self) -> None:
        self.do("conv_projet_territoire", intitule="Projet de territoire 2014-2020", date_adoption="2013-06-27",
                orientations="Cohésion sociale, jeunesse et participation des habitants.")
        self.do("conv_diagnostic", date_diagnostic=self.today(), constats="Chômage des jeunes dans les quartiers.",
                enjeux="Insertion des jeunes et implication des habitants.")


def run_path(convention: _Convention, path: str) -> None:
    """Drive ``convention`` along ``path`` (one of :data:`PATHS`)."""
    convention.register()
    convention.negotiate(loop=path == "signee_apres_retour")
    if path == "refusee_epci":
        convention.votes(epci="rejetee")
        return
    if path == "refusee_region":
        convention.votes(region="rejetee")
        return
    convention.votes()
    convention.sign()
    if path == "avenant":
        convention.do("conv_revue", decision="avenant", date_revue=convention.today(),
                      motif="Revue annuelle : une priorité de plus.")
        convention.negotiate(loop=False)
        convention.votes()
        convention.sign()


def simulate_conventions(engine, clock, campaign_code: str, epcis: list[str], count: int, seed: int) -> dict:
    """Run ``count`` conventions of ``campaign_code`` over ``epcis`` (in turn) on ``engine``;
    returns their paths, their outcomes (signed conventions: ``signee`` with their version) and
    the journal entries they wrote."""
    rng = random.Random(f"{seed}:conventions")
    order = list(PATHS)
    rng.shuffle(order)
    paths: Counter = Counter({path: 0 for path in PATHS})
    outcomes: Counter = Counter()
    started = []
    for number in range(count):
        path = order[number % len(order)]
        convention = _Convention(engine, clock, rng, campaign_code, epcis[number % len(epcis)])
        started.append(convention.iid)
        run_path(convention, path)
        paths[path] += 1
        row = engine.instance(convention.iid)
        if row.status == "completed":
            outcomes[row.outcome] += 1
        else:
            outcomes[f"signee_v{engine.data(convention.iid)['version_convention']}"] += 1
    with engine.db.engine.connect() as connection:
        journaled = connection.execute(select(func.count()).select_from(JournalEntry)
                                       .where(JournalEntry.instance_id.in_(started or [-1]))).scalar_one()
    return {"conventions": count, "paths": dict(paths), "outcomes": dict(sorted(outcomes.items())),
            "commands": journaled}
