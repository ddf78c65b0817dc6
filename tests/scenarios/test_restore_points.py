"""Scenarios whose commands fall where a restore has the most to lose: inside a multi-instance
jury examination, around the complements loop, at a withdrawal in every phase.

Like every scenario (see ``conftest.py``), each runs warm and with a cold load from the database
before every command, and ends with a clean ``verify``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import Conflict
from engine.persistence.models import OpenTask
from tests.factories import CONVENTIONS, INSTRUCTEUR, PORTEUR


def test_jury_members_declaring_conflicts_between_others_keep_a_territorial_quorum(walker):
    iid = walker.start()
    walker.to_jury(iid, epci="CAB")  # 4 members, quorum 3
    assert len(walker.engine.task_views(iid)) == 4
    for n in range(4):  # one member at a time, the second one in conflict: a load before each
        view = walker.engine.task_views(iid)[0]
        walker.evaluate(iid, view, score=4, conflict=n == 1)
        left = walker.steps(iid)
        assert left == (["examen_territorial"] * (3 - n) if n < 3 else ["confirmation_president"])
    view = walker.view(iid, "confirmation_president")
    assert view.data["avis_calcule"] == "favorable" and view.data["jury_type"] == "territorial"
    assert len(view.data["evaluations_retenues"]) == 3


def test_complements_loop_twice_then_the_jury(walker):
    iid = walker.start()
    walker.through_contact(iid)
    walker.through_fiche(iid)
    walker.do(iid, "dossier")
    for missing in ("RIB", "Statuts signés"):  # recevabilité → compléments → recevabilité, twice
        walker.do(iid, "recevabilite", decision="incomplet", pieces_manquantes=missing,
                  date_limite_reponse=walker.response_date(15))
        assert walker.engine.instance(iid).next_timer_at is not None  # the response deadline
        walker.do(iid, "complements", days=5)
    walker.do(iid, "recevabilite", decision="recevable", mobilisation_habitants="reelle")
    assert set(walker.steps(iid)) == {"examen_territorial"}


def _reach(walker, iid: int, step: str) -> None:
    """Walk ``iid`` until ``step`` is open (the first application of the phase it belongs to)."""
    path = [("contact", {"epci": "CAB"}), ("avis_commune", {"avis": "favorable"}),
            ("verification_contact", {"decision": "adapte"}), ("fiche", {}),
            ("adequation_epci", {"decision": "adequate"}), ("dossier", {}),
            ("recevabilite", {"decision": "incomplet", "pieces_manquantes": "RIB"}), ("complements", {}),
            ("recevabilite", {"decision": "recevable", "mobilisation_habitants": "reelle"})]
    for bpmn_id, decisions in path:
        if bpmn_id == step and bpmn_id in walker.steps(iid):
            return
        if bpmn_id == "recevabilite" and decisions["decision"] == "incomplet":
            decisions = {**decisions, "date_limite_reponse": walker.response_date(15)}
        walker.do(iid, bpmn_id, **decisions)
    if step.startswith("examen_"):
        return
    walker.jury(iid)
    if step == "confirmation_president":
        return
    walker.favourable_opinion(iid)
    if step == "commission_permanente":
        return
    walker.do(iid, "commission_permanente", decision="accorde", montant_vote=20000)
    assert step == "redaction_convention"


@pytest.mark.parametrize("step", ["contact", "avis_commune", "fiche", "adequation_epci", "dossier",
                                  "complements", "examen_territorial", "examen_territorial-mid",
                                  "confirmation_president", "commission_permanente", "redaction_convention"])
def test_withdrawal_in_every_phase_closes_everything(walker, engine, step):
    iid = walker.start()
    _reach(walker, iid, step.removesuffix("-mid"))
    if step.endswith("-mid"):  # two of the four members have examined the dossier
        for view in engine.task_views(iid)[:2]:
            walker.evaluate(iid, view)
    assert step.removesuffix("-mid") in walker.steps(iid)
    assert _inbox_rows(engine, iid) > 0
    walker.clock.advance(days=1)
    engine.withdraw(PORTEUR, iid, "L'association se retire.")
    row = engine.instance(iid)
    assert (row.status, row.outcome) == ("completed", "abandonne")
    assert "L'association se retire." in row.reason
    assert row.next_timer_at is None and walker.steps(iid) == []
    assert [engine.open_tasks(actor)[1] for actor in (INSTRUCTEUR, CONVENTIONS, PORTEUR)] == [0, 0, 0]
    assert _inbox_rows(engine, iid) == 0  # every role's inbox, not only those three: no row is left
    with pytest.raises(Conflict):
        engine.withdraw(PORTEUR, iid, "Deux fois.")


def _inbox_rows(engine, iid: int) -> int:
    """The dossier's rows in the inbox projection, whoever's they are."""
    with engine.db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(OpenTask).where(OpenTask.instance_id == iid))
