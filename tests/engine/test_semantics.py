"""BPMN semantics a modeler can draw beyond the DSDT models: event-based gateways (timer and
message branches), DMN hit policies, inclusive gateways, correlated messages and signals.

Every test runs on an engine that loads each dossier from the database before every command, as a
fresh process would (:class:`tests.factories.ColdEngine`: a stored state after every command, or the
journal alone), and ends with a clean ``verify``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from engine import Actor, Database, Forbidden, Invalid, campaigns_api
from engine.persistence.models import Instance, Timer
from tests.factories import scenario_engine, with_contract

DATA = Path(__file__).parents[1] / "data"
PORTEUR = Actor("porteur1", frozenset({"porteur"}))


@pytest.fixture(params=["state", "journal"])
def cold_engine(request, database_url, clock, script_engine):
    """An engine reloading every dossier from the database before each command (``deploy(name)``)."""
    db = Database(database_url)
    db.upgrade()
    engine = scenario_engine(db, clock, script_engine, request.param)
    code, libelle, data = campaigns_api.historical_campaign()
    engine.save_campaign(code, libelle, data)
    engine.campaign_code = code
    yield engine
    report = engine.verify()
    assert report.diverged == [] and report.chain_ok, report.diverged
    db.dispose()


def _deploy(engine, *files: str) -> None:
    models = {}
    for name in files:
        folder = "processes" if name.endswith((".bpmn", ".dmn")) else "forms"
        target = "dsdt_candidature.bpmn" if name == files[0] else name
        models[f"{folder}/{target}"] = (DATA / name).read_bytes()
    engine.deploy(with_contract(models), author="tests")


def _start(engine, porteur: Actor = PORTEUR) -> int:
    return engine.start(porteur, engine.campaign_code)


def _row(engine, instance_id: int) -> Instance:
    with engine.session() as session:
        return session.get(Instance, instance_id)


def _timers(engine, instance_id: int) -> list:
    with engine.session() as session:
        return list(session.execute(select(Timer.task_ref, Timer.due_at).where(Timer.instance_id == instance_id)))


# -- event-based gateways ------------------------------------------------------------------------


def test_a_timer_behind_an_event_based_gateway_reaches_the_timer_table_and_fires(cold_engine, clock):
    _deploy(cold_engine, "event_gateway.bpmn")
    instance_id = _start(cold_engine)
    start = clock.now()

    timers = _timers(cold_engine, instance_id)
    assert [(ref.split(".")[0], due) for ref, due in timers] == [("attente", start.replace(day=2))]
    clock.advance(hours=23)
    assert cold_engine.fire_due_timers() == 0
    clock.advance(hours=1)

    assert cold_engine.fire_due_timers() == 1

    row = _row(cold_engine, instance_id)
    assert row.status == "completed" and row.outcome == "delai"
    assert _timers(cold_engine, instance_id) == []


def _variant(name: str, old: str, new: str) -> dict[str, bytes]:
    text = (DATA / name).read_text()
    assert old in text
    return with_contract({"processes/dsdt_candidature.bpmn": text.replace(old, new).encode()})


TWO_TIMERS = ('<bpmn:sequenceFlow id="f_relance"', '''
    <bpmn:sequenceFlow id="f_delai2" sourceRef="attente" targetRef="delai2" />
    <bpmn:intermediateCatchEvent id="delai2">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P2D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f_delai2_fin" sourceRef="delai2" targetRef="fin" />
    <bpmn:sequenceFlow id="f_relance"''')


def test_deploy_refuses_an_event_based_gateway_with_two_timers(bare_engine):
    with pytest.raises(Invalid) as refused:
        bare_engine.deploy(_variant("event_gateway.bpmn", *TWO_TIMERS), author="tests")
    assert refused.value.bpmn_id == "attente" and "one timer branch" in str(refused.value)
    assert refused.value.file == "processes/dsdt_candidature.bpmn"


def test_deploy_compiles_the_timer_expression_of_a_gateway_branch(bare_engine):
    with pytest.raises(Invalid) as refused:
        bare_engine.deploy(_variant("event_gateway.bpmn", '"P1D"', '().__class__'), author="tests")
    assert refused.value.bpmn_id == "delai"


# -- inclusive and parallel gateways ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["inclusiveGateway", "parallelGateway"])
def test_deploy_refuses_a_split_whose_branches_both_run_code(bare_engine, kind):
    """SpiffWorkflow merges the branches' data at the join, the last one to finish winning."""
    text = (DATA / "inclusive_scripts.bpmn").read_text().replace("inclusiveGateway", kind)
    with pytest.raises(Invalid) as refused:
        bare_engine.deploy(with_contract({"processes/dsdt_candidature.bpmn": text.encode()}), author="tests")
    assert refused.value.bpmn_id == "ouverture"
    assert "avis_a" in str(refused.value) and "avis_b" in str(refused.value) and "join" in str(refused.value)


def test_a_parallel_split_keeps_the_data_of_both_branches(cold_engine):
    _deploy(cold_engine, "parallel_review.bpmn", "avis.schema.json")
    instance_id = _start(cold_engine)
    (task,) = cold_engine.task_views(instance_id)

    cold_engine.complete(PORTEUR, instance_id, task.ref, {"favorable": True})

    assert _row(cold_engine, instance_id).status == "completed"
    data = cold_engine.data(instance_id)
    assert data["a"] == 1 and data["avis_b"] == {"favorable": True}


@pytest.mark.parametrize("tag", ["task", "manualTask"])
def test_deploy_refuses_a_task_nobody_can_complete(bare_engine, tag):
    """A task without a type or a manual task waits for a person, but has no form to complete."""
    variant = _variant("inclusive_scripts.bpmn", '''<bpmn:scriptTask id="avis_b" name="Avis B">
      <bpmn:script>avis = "b"</bpmn:script>
    </bpmn:scriptTask>''', f'<bpmn:{tag} id="avis_b" name="Avis B" />')
    with pytest.raises(Invalid) as refused:
        bare_engine.deploy(variant, author="tests")
    assert refused.value.bpmn_id == "avis_b" and "user task" in str(refused.value)


# -- DMN hit policies ----------------------------------------------------------------------------


def _deploy_policy(engine, policy: str, old: str = "", new: str = "") -> None:
    table = (DATA / "hit_policy.dmn").read_text().replace('hitPolicy="UNIQUE"', f'hitPolicy="{policy}"')
    engine.deploy(with_contract({"processes/dsdt_candidature.bpmn": (DATA / "hit_policy.bpmn").read_bytes(),
                                 "processes/hit_policy.dmn": table.replace(old, new).encode()}), author="tests")


def _decide(engine, clock, login: str):
    """Start a dossier for ``login``, let its decision run after the hour; its row and incident."""
    instance_id = _start(engine, Actor(login, frozenset({"porteur"})))
    clock.advance(hours=1)
    engine.fire_due_timers()
    incidents = [i for i in engine.incidents.list() if i.instance_id == instance_id]
    return instance_id, _row(engine, instance_id), incidents


def test_a_unique_table_with_two_matches_is_an_error_naming_the_decision_and_rows(cold_engine, clock):
    _deploy_policy(cold_engine, "UNIQUE")

    instance_id, row, (incident,) = _decide(cold_engine, clock, "p_grand")

    assert row.status == "running"  # nothing guessed: the dossier waits for a fixed table
    assert incident.bpmn_id == "orienter"
    assert "orientation" in incident.error and "UNIQUE" in incident.error
    assert "regle_region (row 1)" in incident.error and "regle_jury (row 2)" in incident.error
    assert "orientation" not in cold_engine.data(instance_id)


def test_a_unique_table_with_one_match_decides(cold_engine, clock):
    _deploy_policy(cold_engine, "UNIQUE")
    instance_id, row, incidents = _decide(cold_engine, clock, "p_petit")
    assert row.status == "completed" and incidents == []
    assert cold_engine.data(instance_id)["orientation"] == "epci"


@pytest.mark.parametrize(("policy", "expected"), [("FIRST", "region"), ("COLLECT", ["region", "jury"])])
def test_first_and_collect_tables_decide(cold_engine, clock, policy, expected):
    _deploy_policy(cold_engine, policy)
    instance_id, row, incidents = _decide(cold_engine, clock, "p_grand")
    assert row.status == "completed" and incidents == []
    assert cold_engine.data(instance_id)["orientation"] == expected


def test_an_any_table_decides_when_its_matches_agree_and_fails_when_they_differ(cold_engine, clock):
    _deploy_policy(cold_engine, "ANY", '<text>"jury"</text>', '<text>"region"</text>')
    instance_id, row, incidents = _decide(cold_engine, clock, "p_grand")
    assert row.status == "completed" and incidents == []
    assert cold_engine.data(instance_id)["orientation"] == "region"

    _deploy_policy(cold_engine, "ANY")
    _, row, (incident,) = _decide(cold_engine, clock, "p_grand")
    assert row.status == "running" and "ANY" in incident.error and "regle_jury (row 2)" in incident.error


@pytest.mark.parametrize(("policy", "aggregation", "says"), [
    ("PRIORITY", "", "hit policy PRIORITY is not supported"),
    ("RULE ORDER", "", "hit policy RULE ORDER is not supported"),
    ("OUTPUT ORDER", "", "hit policy OUTPUT ORDER is not supported"),
    ("COLLECT", ' aggregation="SUM"', "aggregation SUM is not supported"),
])
def test_deploy_refuses_a_hit_policy_the_engine_would_not_honour(bare_engine, policy, aggregation, says):
    with pytest.raises(Invalid) as refused:
        _deploy_policy(bare_engine, policy, 'id="orientation_table"', f'id="orientation_table"{aggregation}')
    assert refused.value.file == "processes/hit_policy.dmn" and refused.value.bpmn_id == "orientation_table"
    assert "Decision orientation" in str(refused.value) and says in str(refused.value)


# -- messages and signals ------------------------------------------------------------------------

INSTRUCTEUR = Actor("instructeur1", frozenset({"instructeur"}))


def test_a_correlated_message_reaches_the_one_dossier_it_names_through_an_event_gateway(cold_engine, clock):
    _deploy(cold_engine, "event_gateway.bpmn")
    first = _start(cold_engine, Actor("p1", frozenset({"porteur"})))
    second = _start(cold_engine, Actor("p2", frozenset({"porteur"})))
    clock.advance(hours=2)

    reached = cold_engine.deliver_message(INSTRUCTEUR, "relance", {"dossier_ref": _row(cold_engine, first).ref},
                                          {"motif": "pièces manquantes"})

    assert reached == [first]
    row = _row(cold_engine, first)
    assert row.status == "completed" and row.outcome == "relance" and _timers(cold_engine, first) == []
    assert cold_engine.data(first)["relance"] == {"motif": "pièces manquantes"}
    assert _row(cold_engine, second).status == "running" and len(_timers(cold_engine, second)) == 1
    # Any data key correlates (the waiting event's data); a value nobody holds reaches nobody.
    assert cold_engine.deliver_message(INSTRUCTEUR, "relance", {"porteur": "p3"}) == []
    assert cold_engine.deliver_message(INSTRUCTEUR, "relance", {"porteur": "p2"}) == [second]
    assert _row(cold_engine, second).outcome == "relance"
    # Nothing waits any more: nobody is reached, nothing is journaled.
    assert cold_engine.deliver_message(INSTRUCTEUR, "relance", {"porteur": "p2"}) == []


def test_a_message_is_refused_without_correlation_from_a_porteur_or_with_a_bad_payload(cold_engine):
    _deploy(cold_engine, "event_gateway.bpmn")
    instance_id = _start(cold_engine)
    with pytest.raises(Invalid) as refused:
        cold_engine.deliver_message(INSTRUCTEUR, "relance", {})
    assert refused.value.code == "event.correlation_required"
    with pytest.raises(Forbidden):
        cold_engine.deliver_message(PORTEUR, "relance", {"porteur": PORTEUR.login})
    with pytest.raises(Invalid):
        cold_engine.deliver_message(INSTRUCTEUR, "relance", {"porteur": PORTEUR.login}, {"x": "y" * 70_000})
    with pytest.raises(Invalid):
        cold_engine.deliver_message(INSTRUCTEUR, "relance", {"porteur": ["a"]})
    assert _row(cold_engine, instance_id).status == "running"  # nothing delivered


def test_a_signal_reaches_every_waiting_dossier(cold_engine):
    _deploy(cold_engine, "signal.bpmn")
    waiting = [_start(cold_engine, Actor(f"p{n}", frozenset({"porteur"}))) for n in range(3)]

    assert cold_engine.send_signal(INSTRUCTEUR, "cloture_campagne", {"date": "2015-01-31"}) == waiting

    for instance_id in waiting:
        assert _row(cold_engine, instance_id).outcome == "cloture"
        assert cold_engine.data(instance_id)["cloture"] == {"date": "2015-01-31"}
    assert cold_engine.send_signal(INSTRUCTEUR, "cloture_campagne") == []
    assert cold_engine.send_signal(INSTRUCTEUR, "autre_signal") == []
