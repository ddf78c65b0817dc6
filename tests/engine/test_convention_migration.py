"""A convention (process family ``convention``) migrates to a new version like a dossier: its
models are those of its own family on both versions, it completes on the new one, and verify
replays it."""

from __future__ import annotations

from engine import migrate_dossiers
from tests.scenarios.test_conventions import PRIORITES, Convention

from .test_migration import OWNER, REASON, _cold, _journal, _replace


def test_a_convention_migrates_to_a_new_version_and_completes_on_it(engine, clock, models):
    convention = Convention(engine, clock)
    convention.registered()
    v1 = engine.instance(convention.iid).deployment_id
    _replace(models / "processes/convention_dsdt.bpmn", 'name="Examiner les priorités proposées"',
             'name="Examiner les priorités conjointes proposées"')
    assert engine.deploy_directory(models, author="owner", comment="v2").version == 2

    report = migrate_dossiers(_cold(engine, clock), OWNER, 2, refs=[convention.row().ref], reason=REASON)

    assert report.migrated == [convention.row().ref]
    assert engine.instance(convention.iid).deployment_id != v1
    command, _actor, payload = _journal(engine, convention.iid)[-1]
    assert (command, payload["from_version"], payload["to_version"]) == ("migrate", 1, 2)
    convention.engine = _cold(engine, clock)
    convention.do("conv_proposition", priorites=PRIORITES)
    assert [v.name for v in convention.engine.task_views(convention.iid)] == [
        "Examiner les priorités conjointes proposées"]
    convention.do("conv_examen", decision="accord", date_examen=convention.today())
    convention.votes()
    convention.sign()
    assert convention.data()["priorites_signees"] == PRIORITES
    report = _cold(engine, clock).verify()
    assert report.diverged == [] and report.verified == 1
