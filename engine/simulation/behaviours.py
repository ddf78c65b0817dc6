"""How each role acts on each step, with seeded randomness: decisions, delays, lateness.

Each behaviour gets the task's data and returns the form data the person submits; the rest of the
form is filled from its schema by :mod:`.fake_data`. Delays say how many days the person takes
before acting, which is how deadlines get missed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from ..roles import PORTEUR


@dataclass
class Profile:
    """A simulated application's traits, drawn once from the seed."""

    quality: float  # 0..1, drives jury scores
    late: bool  # a porteur who tends to miss deadlines
    withdraw_rate: float


def draw_profile(rng: random.Random) -> Profile:
    return Profile(quality=rng.betavariate(3, 2), late=rng.random() < 0.12, withdraw_rate=0.015)


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _score(rng: random.Random, quality: float) -> int:
    return max(0, min(5, round(quality * 5 + rng.gauss(0, 0.9))))


def decide(bpmn_id: str, data: dict, rng: random.Random, today: date, profile: Profile) -> dict:
    """The decision fields of the form for step ``bpmn_id`` (``{}``: only the generated data)."""
    if bpmn_id == "contact":
        return {"epci": rng.choice(sorted(data["campagne"]["epci"]))}
    if bpmn_id == "avis_commune":
        return {"avis": _pick(rng, {"favorable": 80, "reserve": 15, "defavorable": 5})}
    if bpmn_id == "verification_contact":
        return {"decision": _pick(rng, {"adapte": 82, "a_retravailler": 10, "inadapte": 8})}
    if bpmn_id == "fiche":
        priorities = data["campagne"]["epci"][data["epci"]]["priorites"]
        return {"priorite": rng.choice(priorities)}
    if bpmn_id == "adequation_epci":
        return {"decision": _pick(rng, {"adequate": 85, "a_completer": 8, "non_adequate": 7})}
    if bpmn_id == "recevabilite":
        decision = _pick(rng, {"recevable": 70, "incomplet": 22, "irrecevable": 8})
        form = {
            "decision": decision,
            "mobilisation_habitants": "reelle" if rng.random() < 0.88 else "insuffisante",
            "date_limite_reponse": (today + timedelta(days=15)).isoformat(),
        }
        return form
    if bpmn_id in ("examen_territorial", "examen_regional"):
        if rng.random() < 0.08:
            return {"conflit_interet": True}
        return {
            "conflit_interet": False,
            **{
                criterion: _score(rng, profile.quality)
                for criterion in (
                    "qualite_inventivite",
                    "partenariat",
                    "mise_en_reseau",
                    "gouvernance_evaluation",
                )
            },
        }
    if bpmn_id == "confirmation_president":
        computed = data.get("avis_calcule", "defavorable")
        final = computed if rng.random() < 0.95 else _pick(rng, {"favorable": 1, "defavorable": 1})
        amount = float(data.get("fiche", {}).get("montant_demande") or 10_000)
        return {"avis_final": final, "montant_propose": round(amount * rng.uniform(0.6, 1.0), 2)}
    if bpmn_id == "commission_permanente":
        return {"decision": _pick(rng, {"accorde": 92, "refuse": 8}), "date_commission": today.isoformat()}
    if bpmn_id == "signature_porteur":
        return {"accepte": rng.random() < 0.97, "date_signature": today.isoformat()}
    if bpmn_id in ("signature_region",):
        return {"date_signature": today.isoformat()}
    if bpmn_id == "notification_convention":
        return {"date_notification": today.isoformat()}
    return {}


def delay_days(bpmn_id: str, rng: random.Random, profile: Profile, role: str | None = None) -> float:
    """Days the person in charge of ``bpmn_id`` (of ``role``, as its lane says) takes before acting."""
    if bpmn_id == "fiche":
        return rng.uniform(20, 70) if profile.late else rng.uniform(2, 25)
    if bpmn_id == "dossier":
        return rng.uniform(40, 90) if profile.late else rng.uniform(5, 35)
    if bpmn_id == "complements":
        return rng.uniform(16, 30) if rng.random() < 0.2 else rng.uniform(2, 12)
    if role == PORTEUR:
        return rng.uniform(1, 10)
    return rng.uniform(1, 8)
