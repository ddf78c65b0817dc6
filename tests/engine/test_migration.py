"""Migration of running dossiers to another version: checked, journaled, reversible, verifiable."""

from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import select

from engine import Actor, Forbidden, Invalid, migrate_dossiers
from engine.persistence.models import JournalEntry
from tests.factories import PORTEUR, ColdEngine, Walker

OWNER = Actor("process.owner", frozenset({"process_owner"}))
REASON = "Le libellé de la notification change pour la campagne 2015"


def _replace(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new))


def _version_two(engine, models):
    """Version 2: the convention's last step renamed (a change every dossier can take over)."""
    _replace(models / "processes/phase_convention.bpmn", 'name="Notifier la convention"',
             'name="Notifier la convention signée"')
    return engine.deploy_directory(models, author="owner", comment="v2").version


def _journal(engine, iid):
    with engine.session() as session:
        return [(row.command, row.actor, row.payload) for row in session.scalars(
            select(JournalEntry).where(JournalEntry.instance_id == iid).order_by(JournalEntry.seq))]


def _cold(engine, clock):
    """An engine on the same database that loads every dossier from it (a fresh process)."""
    return ColdEngine(engine.db, clock, engine.script_engine)


def test_a_migrated_dossier_completes_on_the_new_version_and_verify_replays_it(engine, clock, models):
    walker = Walker(engine, clock)
    moved, stays = walker.start(PORTEUR), walker.start(PORTEUR)
    walker.through_contact(moved)
    v1 = engine.instance(moved).deployment_id
    assert _version_two(engine, models) == 2

    report = migrate_dossiers(_cold(engine, clock), OWNER, 2, refs=[engine.instance(moved).ref], reason=REASON)

    assert report.migrated == [engine.instance(moved).ref]
    assert engine.instance(moved).deployment_id != v1
    assert engine.instance(stays).deployment_id == v1  # not migrated: keeps running on its version
    command, actor, payload = _journal(engine, moved)[-1]
    assert (command, actor, payload["reason"], payload["from_version"], payload["to_version"]) == (
        "migrate", "process.owner", REASON, 1, 2)
    cold = _cold(engine, clock)
    walker = Walker(cold, clock)
    walker.porteur = PORTEUR
    assert walker.steps(moved) == ["fiche"]
    walker.through_fiche(moved)
    walker.through_dossier(moved)
    walker.jury(moved, score=4)
    walker.favourable_opinion(moved)
    walker.do(moved, "commission_permanente", decision="accorde", montant_vote=20000)
    walker.do(moved, "redaction_convention")
    walker.do(moved, "signature_porteur", accepte=True)
    walker.do(moved, "signature_region")
    assert walker.view(moved, "notification_convention").name == "Notifier la convention signée"
    walker.do(moved, "notification_convention")
    assert walker.outcome(moved)[:2] == ("completed", "conventionne")
    walker.do(stays, "contact", epci="CAB")  # the other one still runs on version 1
    report = cold.verify()
    assert (report.diverged, report.verified) == ([], 2)


def _remove_step(path, step, incoming_flow, outgoing_flow, successor):
    """Remove ``step`` from a diagram: its incoming flow goes straight to ``successor``."""
    root = etree.fromstring(path.read_bytes())
    for element in list(root.iter()):
        if element.get("id") in (step, outgoing_flow) or element.get("bpmnElement") in (step, outgoing_flow):
            element.getparent().remove(element)
        elif element.get("id") == incoming_flow:
            element.set("targetRef", successor)
        elif isinstance(element.tag, str) and element.tag.endswith("incoming") and element.text == outgoing_flow:
            element.text = incoming_flow
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def test_a_migration_that_removes_a_completed_step_is_refused_naming_it(engine, clock, models):
    walker = Walker(engine, clock)
    iid = walker.start(PORTEUR)
    walker.through_contact(iid)
    _remove_step(models / "processes/phase_contact.bpmn", "avis_commune", "contact_f3", "contact_f4",
                 "verification_contact")
    engine.deploy_directory(models, author="owner", comment="renamed")
    before = (engine.instance(iid).deployment_id, len(_journal(engine, iid)))

    with pytest.raises(Invalid) as caught:
        migrate_dossiers(engine, OWNER, 2, from_version=1, reason=REASON)

    assert caught.value.code == "migration.incompatible"
    assert "avis_commune (removed)" in caught.value.message
    assert (engine.instance(iid).deployment_id, len(_journal(engine, iid))) == before


def test_a_completed_step_whose_type_changed_is_refused(engine, clock, models):
    walker = Walker(engine, clock)
    iid = walker.start(PORTEUR)
    walker.through_contact(iid)
    path = models / "processes/phase_contact.bpmn"
    root = etree.fromstring(path.read_bytes())
    (step,) = [el for el in root.iter() if el.get("id") == "verification_contact"]
    step.tag = step.tag.replace("userTask", "scriptTask")  # the decision taken by a script from now on
    for child in list(step):
        if child.tag.endswith("}extensionElements"):
            step.remove(child)
    script = etree.SubElement(step, step.tag.replace("scriptTask", "script"))
    script.text = 'verification_contact = {"decision": "adapte"}'
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    engine.deploy_directory(models, author="owner")
    with pytest.raises(Invalid) as caught:
        migrate_dossiers(engine, OWNER, 2, refs=[engine.instance(iid).ref], reason=REASON)
    assert "verification_contact (type_changed: UserTask → " in caught.value.message


def test_a_completed_step_whose_form_lost_a_field_is_refused(engine, clock, models):
    walker = Walker(engine, clock)
    iid = walker.start(PORTEUR)
    walker.through_contact(iid)
    import json

    path = models / "forms/avis_commune.schema.json"
    schema = json.loads(path.read_text())
    field = sorted(name for name in schema["properties"] if name not in schema.get("required", []))[0]
    del schema["properties"][field]
    path.write_text(json.dumps(schema))
    engine.deploy_directory(models, author="owner")
    with pytest.raises(Invalid) as caught:
        migrate_dossiers(engine, OWNER, 2, refs=[engine.instance(iid).ref], reason=REASON)
    assert f"avis_commune (fields_removed: {field})" in caught.value.message


def test_a_migration_is_reversed_by_migrating_back_and_both_are_journaled(engine, clock, models):
    walker = Walker(engine, clock)
    iid = walker.start(PORTEUR)
    walker.do(iid, "contact", epci="CAB")
    v1 = engine.instance(iid).deployment_id
    _version_two(engine, models)
    ref = engine.instance(iid).ref
    migrate_dossiers(_cold(engine, clock), OWNER, 2, refs=[ref], reason=REASON)
    walker = Walker(_cold(engine, clock), clock)
    walker.porteur = PORTEUR
    walker.do(iid, "avis_commune", avis="favorable")  # one step on version 2

    migrate_dossiers(_cold(engine, clock), OWNER, 1, refs=[ref], reason="Retour arrière : erreur de version")

    assert engine.instance(iid).deployment_id == v1
    assert [(c, p.get("to_version")) for c, _, p in _journal(engine, iid) if c == "migrate"] == [
        ("migrate", 2), ("migrate", 1)]
    walker.do(iid, "verification_contact", decision="adapte")
    assert walker.steps(iid) == ["fiche"]
    report = _cold(engine, clock).verify()
    assert (report.diverged, report.verified) == ([], 1)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_a_migration_without_a_reason_changes_nothing(engine, clock, models, reason):
    walker = Walker(engine, clock)
    iid = walker.start(PORTEUR)
    _version_two(engine, models)
    with pytest.raises(Invalid) as caught:
        migrate_dossiers(engine, OWNER, 2, refs=[engine.instance(iid).ref], reason=reason)
    assert caught.value.code.startswith("migration.reason")
    assert [c for c, _, _ in _journal(engine, iid)] == ["start"]


def test_only_process_owners_migrate(engine, clock, models):
    walker = Walker(engine, clock)
    iid = walker.start(PORTEUR)
    _version_two(engine, models)
    with pytest.raises(Forbidden):
        migrate_dossiers(engine, PORTEUR, 2, refs=[engine.instance(iid).ref], reason=REASON)
