"""One dossier walked along the happy path, one command per step, on a fixed clock.

The form data is what the simulator's people submit (:mod:`engine.simulation.fake_data`), with
the decision fields set so the dossier goes to its end: favourable opinions, a jury, a signed
convention. Each step is the next open task, done by the person the simulator would act as.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from ..commands import Actor
from ..roles import PORTEUR
from ..simulation import behaviours
from ..simulation.fake_data import attach_sample, generate
from ..simulation.runner import _actor

#: the decision of each step that keeps the dossier on its way to a convention
HAPPY = {
    "avis_commune": {"avis": "favorable"},
    "verification_contact": {"decision": "adapte"},
    "adequation_epci": {"decision": "adequate"},
    "recevabilite": {"decision": "recevable", "mobilisation_habitants": "reelle"},
    "examen_territorial": {"conflit_interet": False},
    "examen_regional": {"conflit_interet": False},
    "confirmation_president": {"avis_final": "favorable"},
    "commission_permanente": {"decision": "accorde"},
    "signature_porteur": {"accepte": True},
}
#: the phase (BPMN file of ``processes/``) each step belongs to; ``start`` is the application's start
PHASES = {
    "contact": "contact", "avis_commune": "contact", "verification_contact": "contact",
    "fiche": "fiche", "adequation_epci": "fiche",
    "dossier": "dossier", "recevabilite": "dossier", "complements": "dossier",
    "examen_territorial": "jury", "examen_regional": "jury", "confirmation_president": "jury",
    "remaniement_dossier": "jury", "reconstitution_jury": "jury",
    "commission_permanente": "decision",
    "redaction_convention": "convention", "signature_porteur": "convention", "signature_region": "convention",
    "notification_convention": "convention",
}
_PROFILE = behaviours.Profile(quality=1.0, late=False, withdraw_rate=0.0)


@dataclass(frozen=True)
class Step:
    """The next command of a walked dossier: who completes which task with what."""

    instance_id: int
    bpmn_id: str
    actor: Actor
    task_ref: str
    data: dict

    @property
    def phase(self) -> str:
        return PHASES.get(self.bpmn_id, self.bpmn_id)


def next_step(engine, instance_id: int, porteur: str, forms: dict, rng: random.Random) -> Step | None:
    """The dossier's next happy-path step (``None``: nothing open, the dossier is done)."""
    views = engine.task_views(instance_id)
    if not views:
        return None
    view = views[0]
    today = engine.clock.now().date()
    data = generate(forms[view.form], rng, today)
    data.update(behaviours.decide(view.bpmn_id, view.data, rng, today, _PROFILE))
    data.update(HAPPY.get(view.bpmn_id, {}))
    actor = _actor(view, view.data.get("epci"), porteur)
    return Step(instance_id, view.bpmn_id, actor, view.ref, data)


def walk(engine, instance_id: int, porteur: str, forms: dict, seed: int = 1, limit: int = 60) -> Iterator[Step]:
    """The steps of the dossier, one by one: the caller runs each (``engine.complete``) before the next.

    The clock moves one day before each step, so no deadline passes on the happy path.
    """
    rng = random.Random(seed)
    attach_sample(engine.db, engine.clock, instance_id, porteur)  # what the generated forms attach
    for _ in range(limit):
        engine.clock.set(engine.clock.now() + timedelta(days=1))
        step = next_step(engine, instance_id, porteur, forms, rng)
        if step is None:
            return
        yield step


def porteur_actor(login: str) -> Actor:
    return Actor(login, frozenset({PORTEUR}))
