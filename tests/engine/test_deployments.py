"""Deployments are content-addressed versions; a broken file is refused and nothing changes."""

from __future__ import annotations

import pytest

from engine import Invalid, read_model_files
from tests.conftest import ROOT
from tests.factories import PORTEUR, Walker


def test_deploying_unchanged_files_keeps_the_current_version(bare_engine):
    first = bare_engine.deploy_directory(ROOT, author="a")
    again = bare_engine.deploy_directory(ROOT, author="b")
    assert first.created and not again.created
    assert (again.version, again.content_hash) == (first.version, first.content_hash)


def _replace(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


BROKEN = {
    "malformed BPMN": ("processes/phase_fiche.bpmn", "</bpmn:definitions>", "", "phase_fiche.bpmn"),
    "malformed DMN": ("processes/avis_jury.dmn", "</definitions>", "<oops>", "avis_jury.dmn"),
    "unknown lane": ("processes/phase_decision.bpmn", 'name="Instructeur Région"', 'name="Stagiaire"',
                     "phase_decision.bpmn"),
    "missing form": ("processes/phase_decision.bpmn", 'value="commission_permanente.schema.json"',
                     'value="absent.schema.json"', "phase_decision.bpmn"),
    "bad schema": ("forms/fiche.schema.json", '"type": "object"', '"type": "objet"', "fiche.schema.json"),
    "bad JSON": ("forms/fiche.uischema.json", "{", "{{", "fiche.uischema.json"),
    # Code the sandbox cannot run is refused at deploy, not when a dossier reaches it.
    "script syntax": ("processes/phase_contact.bpmn", 'epci = contact["epci"]', 'epci = contact["epci"',
                      "phase_contact.bpmn"),
    "forbidden script": ("processes/phase_contact.bpmn", 'epci = contact["epci"]', "epci = contact.__class__",
                         "phase_contact.bpmn"),
    "bad condition": ("processes/phase_fiche.bpmn", 'adequation_epci["decision"] == "a_completer"',
                      'adequation_epci["decision"] === "a_completer"', "phase_fiche.bpmn"),
    "bad timer": ("processes/phase_fiche.bpmn", 'campagne["date_limite_fiche"]', 'campagne[_secret]',
                  "phase_fiche.bpmn"),
    # A cycle timer would read the wall clock and loop month by month over a huge period.
    "cycle timer": ("processes/phase_fiche.bpmn", '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">campagne['
                    '"date_limite_fiche"]</bpmn:timeDate>', '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">'
                    '"R/P100000Y"</bpmn:timeCycle>', "phase_fiche.bpmn"),
    # DMN cells too: input entries, output entries and input expressions.
    "forbidden DMN input entry": ("processes/avis_jury.dmn", "<text>&gt;= 3</text>", "<text>&gt;= ().__class__</text>",
                                  "avis_jury.dmn"),
    "DMN input entry syntax": ("processes/avis_jury.dmn", "<text>&gt;= 3</text>", "<text>&gt;= = 3</text>",
                               "avis_jury.dmn"),
    "forbidden DMN output entry": ("processes/avis_jury.dmn", '<text>"favorable"</text>', "<text>_secret</text>",
                                   "avis_jury.dmn"),
    "forbidden DMN input expression": ("processes/avis_jury.dmn", "<text>note_moyenne</text>",
                                       "<text>note_moyenne.__class__</text>", "avis_jury.dmn"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_is_refused_naming_it_and_the_current_deployment_stays(bare_engine, models, case):
    current = bare_engine.deploy_directory(ROOT, author="tests")
    path, old, new, named = BROKEN[case]
    _replace(models / path, old, new)
    with pytest.raises(Invalid) as caught:
        bare_engine.deploy_directory(models, author="tests")
    assert named in str(caught.value)
    with bare_engine.session() as session:
        assert bare_engine.deployments.current(session).version == current.version


@pytest.mark.parametrize(
    ("path", "old", "new", "bpmn_id", "line", "quoted"),
    [
        ("processes/phase_decision.bpmn", 'value="commission_permanente.schema.json"', 'value="absent.schema.json"',
         "commission_permanente", None, "absent.schema.json"),
        # A script the sandbox refuses: its element and the line within the script.
        ("processes/phase_contact.bpmn", 'titre_projet = contact["titre_projet"]', "titre_projet = ().__class__",
         "contact_portee", 2, "__class__"),
        # A DMN cell: the cell's id, and the message names the decision, the rule and the cell's text.
        ("processes/avis_jury.dmn", "<text>&gt;= 3</text>", "<text>&gt;= ().__class__</text>",
         "avis_regle_2_in_3", 1, "decision avis_jury, rule avis_regle_2 (row 2), input entry '>= ().__class__'"),
    ],
    ids=["missing form", "forbidden script", "forbidden DMN cell"],
)
def test_the_error_names_the_element(bare_engine, models, path, old, new, bpmn_id, line, quoted):
    _replace(models / path, old, new)
    with pytest.raises(Invalid) as caught:
        bare_engine.deploy_directory(models, author="tests")
    assert caught.value.bpmn_id == bpmn_id
    assert caught.value.line == line
    assert quoted in caught.value.message


def test_instances_stay_pinned_to_the_version_they_started_on(engine, clock, models):
    walker = Walker(engine, clock)
    old = walker.start(PORTEUR)
    _replace(models / "forms/contact.schema.json", '"title"', '"description": "v2", "title"')
    info = engine.deploy_directory(models, author="tests", comment="v2")
    assert info.created and info.version == 2
    new = walker.start(PORTEUR)
    assert engine.instance(old).deployment_id != engine.instance(new).deployment_id
    walker.do(old, "contact", epci="CAB")  # the old instance runs on its own version
    assert walker.steps(old) == ["avis_commune"]


def test_files_are_stored_once_by_content(bare_engine, models):
    bare_engine.deploy_directory(ROOT, author="a")
    _replace(models / "forms/fiche.uischema.json", "{", '{"ui:title": "v2",')
    bare_engine.deploy_directory(models, author="a")
    from sqlalchemy import func, select

    from engine.persistence.models import Blob

    with bare_engine.session() as session:
        blobs = session.scalar(select(func.count()).select_from(Blob))
    assert blobs == len(read_model_files(ROOT)) + 1


def test_recorded_histories_are_checked_against_new_models_before_deploying(engine, clock, models):
    walker = Walker(engine, clock)
    iid = walker.start(PORTEUR)
    walker.through_contact(iid)
    assert engine.check_history(read_model_files(models)).verified == 1
    # A new version that renames a step breaks every history that went through it.
    for path in (models / "processes").glob("phase_contact.bpmn"):
        text = path.read_text()
        for old, new in (('"avis_commune"', '"avis_de_la_commune"'), (">avis_commune<", ">avis_de_la_commune<")):
            text = text.replace(old, new)
        path.write_text(text)
    report = engine.check_history(read_model_files(models))
    assert [item["instance"] for item in report.diverged] == [iid]
    assert "avis_commune" in report.diverged[0]["problem"]
