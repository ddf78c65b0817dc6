"""One scenario per way through the DSDT lifecycle, on the real models, the durable engine and
the sandbox. Every command reloads nothing by hand: the engine persists after each one, and the
restore modes of ``conftest.py`` load from the database before each. Withdrawal at every phase:
``test_restore_points.py``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import Conflict
from engine.timers import Worker
from tests.factories import PORTEUR


def test_territorial_jury_path_ends_conventionne(walker):
    iid = walker.start()
    walker.do(iid, "contact", epci="CAB")
    walker.do(iid, "avis_commune", avis="reserve", commentaire="À préciser")
    walker.do(iid, "verification_contact", decision="a_retravailler", conseils="Préciser le quartier visé")
    walker.do(iid, "contact", epci="CAB")  # the rework loop
    walker.do(iid, "avis_commune", avis="favorable")
    walker.do(iid, "verification_contact", decision="adapte")
    walker.through_fiche(iid)
    walker.through_dossier(iid)
    walker.jury(iid, score=4)
    walker.favourable_opinion(iid, amount=20000)
    walker.through_decision_and_convention(iid)
    assert walker.outcome(iid) == ("completed", "conventionne", "territorial")


def test_regional_fallback_when_no_territorial_jury_ends_conventionne(walker):
    iid = walker.start()
    walker.to_jury(iid, epci="CAAC")  # Artois-Comm has no territorial jury
    assert walker.steps(iid) == ["examen_regional"] * 3
    walker.jury(iid, score=4)
    walker.favourable_opinion(iid, amount=15000)
    walker.through_decision_and_convention(iid)
    assert walker.outcome(iid) == ("completed", "conventionne", "regional")


def test_conflicts_below_quorum_send_the_dossier_to_the_regional_jury(walker):
    iid = walker.start()
    walker.to_jury(iid, epci="CAB")
    walker.jury(iid, score=4, conflicts=2)  # 4 members, quorum 3: 2 remain
    assert set(walker.steps(iid)) == {"examen_regional"}
    walker.jury(iid, score=4)
    walker.favourable_opinion(iid, amount=10000, motivation="Avis favorable du jury régional.")
    assert walker.outcome(iid)[2] == "regional"


def test_adjourned_dossier_goes_to_a_later_jury_session(walker):
    iid = walker.start()
    walker.to_jury(iid)
    walker.jury(iid, score=2)  # mean 2: neither favourable nor unfavourable on a first passage
    assert walker.view(iid, "confirmation_president").data["avis_calcule"] == "ajourne"
    walker.do(iid, "confirmation_president", avis_final="ajourne", motivation="Revoir la gouvernance du projet.",
              consignes_porteur="Précisez la gouvernance et l'évaluation du projet.")
    # The porteur reworks the dossier before the jury's next session, not the jury at once.
    assert walker.steps(iid) == ["remaniement_dossier"]
    assert walker.view(iid, "remaniement_dossier").assignee == PORTEUR.login
    walker.do(iid, "remaniement_dossier", elements_retravailles="Comité de pilotage avec les habitants.")
    walker.jury(iid, score=4)
    view = walker.view(iid, "confirmation_president")
    assert view.data["passage_jury"] == 2 and view.data["avis_calcule"] == "favorable"
    assert view.data["remaniement_dossier"]["elements_retravailles"] == "Comité de pilotage avec les habitants."


@pytest.mark.parametrize(("decisions", "outcome"), [
    ({"verification_contact": {"decision": "inadapte", "motif": "Hors contrat de ville"}}, "inadapte"),
    ({"adequation_epci": {"decision": "non_adequate", "motif": "Sans lien avec le projet de territoire"}},
     "non_adequat"),
    ({"recevabilite": {"decision": "irrecevable", "motif": "Porteur inéligible"}}, "irrecevable"),
    ({"recevabilite": {"decision": "recevable", "mobilisation_habitants": "insuffisante",
                       "motif": "Aucune mobilisation des habitants"}}, "rejete_participation"),
])
def test_refusals_end_with_their_outcome_and_a_reason(walker, decisions, outcome):
    iid = walker.start()
    steps = [("contact", {"epci": "CAVM"}), ("avis_commune", {"avis": "favorable"}),
             ("verification_contact", {"decision": "adapte"}), ("fiche", {}),
             ("adequation_epci", {"decision": "adequate"}), ("dossier", {}),
             ("recevabilite", {"decision": "recevable", "mobilisation_habitants": "reelle"})]
    for step, default in steps:
        walker.do(iid, step, **decisions.get(step, default))
        if step in decisions:
            break
    status, final, _ = walker.outcome(iid)
    assert (status, final) == ("completed", outcome)
    assert walker.engine.instance(iid).reason


def test_unfavourable_jury_ends_defavorable_with_the_presidents_motivation(walker):
    iid = walker.start()
    walker.to_jury(iid, epci="CAVM")
    walker.jury(iid, score=1)
    walker.do(iid, "confirmation_president", avis_final="defavorable", motivation="Projet trop peu partenarial.")
    row = walker.engine.instance(iid)
    assert row.outcome == "defavorable" and "Projet trop peu partenarial." in row.reason


def test_commission_refusal_ends_defavorable(walker):
    iid = walker.start()
    walker.to_jury(iid)
    walker.jury(iid)
    walker.favourable_opinion(iid, amount=20000)
    walker.do(iid, "commission_permanente", decision="refuse", motif="Crédits épuisés")
    assert walker.outcome(iid)[1] == "defavorable"


def test_complements_answered_in_time_continue_to_the_jury(walker):
    iid = walker.start()
    walker.through_contact(iid)
    walker.through_fiche(iid)
    walker.do(iid, "dossier")
    walker.do(iid, "recevabilite", decision="incomplet", pieces_manquantes="RIB",
              date_limite_reponse=walker.response_date(15))
    walker.do(iid, "complements", days=10)
    walker.do(iid, "recevabilite", decision="recevable", mobilisation_habitants="reelle")
    assert set(walker.steps(iid)) == {"examen_territorial"}


def test_complements_answered_too_late_end_irrecevable(walker, clock):
    iid = walker.start()
    walker.through_contact(iid)
    walker.through_fiche(iid)
    walker.do(iid, "dossier")
    walker.do(iid, "recevabilite", decision="incomplet", pieces_manquantes="RIB",
              date_limite_reponse=walker.response_date(15))
    with pytest.raises(Conflict):  # the porteur comes back on day 20: the step closed on day 15
        walker.do(iid, "complements", days=20)
    assert walker.outcome(iid)[:2] == ("completed", "irrecevable")


def test_missed_fiche_deadline_is_closed_by_the_worker(walker, engine, clock):
    iid = walker.start()
    walker.through_contact(iid)
    clock.set(datetime(2014, 12, 1, 22, 58, tzinfo=UTC))  # 23:58 in Paris: still open
    assert engine.fire_due_timers() == 0 and walker.steps(iid) == ["fiche"]
    clock.set(datetime(2014, 12, 1, 23, 0, tzinfo=UTC))  # 00:00 on 2 December in Paris
    assert engine.fire_due_timers() == 1
    assert walker.outcome(iid)[:2] == ("completed", "hors_delai")
    assert engine.fire_due_timers() == 0  # each timer fires once


def test_missed_dossier_deadline_fired_by_a_running_worker_thread(walker, engine, clock):
    import threading
    import time

    iid = walker.start()
    walker.through_contact(iid)
    walker.through_fiche(iid)
    clock.set(datetime(2015, 1, 24, 12, 0, tzinfo=UTC))
    worker = Worker(engine, interval=0.05)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while engine.instance(iid).status != "completed" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        thread.join()
    assert walker.outcome(iid)[:2] == ("completed", "hors_delai")


def test_porteur_refusing_to_sign_abandons(walker):
    iid = walker.start()
    walker.to_jury(iid)
    walker.jury(iid)
    walker.favourable_opinion(iid, amount=20000)
    walker.do(iid, "commission_permanente", decision="accorde", montant_vote=20000)
    walker.do(iid, "redaction_convention")
    walker.do(iid, "signature_porteur", accepte=False, motif_refus="Montant insuffisant")
    assert walker.outcome(iid)[1] == "abandonne"


def test_a_jury_without_quorum_never_decides(walker):
    """Every member declares a conflict, territorial then regional: no mean over no score, no
    "défavorable"; the instructeur convenes the regional jury again, which then decides."""
    iid = walker.start()
    walker.to_jury(iid, epci="CAB")
    walker.jury(iid, conflicts=4)  # the whole territorial jury: the regional jury takes over
    assert walker.steps(iid) == ["examen_regional"] * 3
    walker.jury(iid, conflicts=3)  # the whole regional jury too
    assert walker.steps(iid) == ["reconstitution_jury"]
    view = walker.view(iid, "reconstitution_jury")
    assert view.role == "instructeur" and "avis_calcule" not in view.data
    assert view.data["note_moyenne"] is None and walker.outcome(iid)[0] == "running"
    walker.do(iid, "reconstitution_jury", date_session="2015-04-02")
    walker.jury(iid, score=4)
    assert walker.view(iid, "confirmation_president").data["avis_calcule"] == "favorable"


def test_withdrawal_ends_when_the_porteur_signs(walker, engine):
    iid = walker.start()
    walker.to_jury(iid)
    walker.jury(iid)
    walker.favourable_opinion(iid)
    walker.do(iid, "commission_permanente", decision="accorde", montant_vote=20000)
    walker.do(iid, "redaction_convention")
    walker.do(iid, "signature_porteur", accepte=True)
    for step in ("signature_region", "notification_convention"):
        with pytest.raises(Conflict, match="can no longer be withdrawn"):
            engine.withdraw(PORTEUR, iid, "Trop tard.")
        assert walker.outcome(iid)[0] == "running" and walker.steps(iid) == [step]
        walker.do(iid, step)
    assert walker.outcome(iid)[:2] == ("completed", "conventionne")


def test_withdrawal_until_the_porteur_signs(walker, engine):
    iid = walker.start()
    walker.to_jury(iid)
    walker.jury(iid)
    walker.favourable_opinion(iid)
    walker.do(iid, "commission_permanente", decision="accorde", montant_vote=20000)
    walker.do(iid, "redaction_convention")
    assert walker.steps(iid) == ["signature_porteur"]
    engine.withdraw(PORTEUR, iid, "Le projet est reporté.")
    row = engine.instance(iid)
    assert (row.status, row.outcome) == ("completed", "abandonne") and "Le projet est reporté." in row.reason
