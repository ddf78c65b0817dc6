"""Checks on the DSDT process models (processes/, forms/).

Static checks: every BPMN/DMN file parses with SpiffWorkflow's spiff parser (and
validates against the BPMN XSD), every user task points at a valid form, every
node has diagram interchange, lanes use the known role labels, ids are unique.

Smoke runs: whole lifecycles driven with plain SpiffWorkflow in memory and the
engine's script helpers, the engine's conventions emulated (form dict stored
under ``formDataVariable`` or the task id; withdrawal delivered as a
``retrait_porteur`` message).
"""
import json
from pathlib import Path

import jsonschema
import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.scripts.helpers import HELPERS

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
FORMS = ROOT / "forms"
BPMN_FILES = sorted(PROCESSES.glob("*.bpmn"))
DMN_FILES = sorted(PROCESSES.glob("*.dmn"))
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
LANES = {
    "Porteur de projet", "Technicien commune", "Technicien EPCI", "Instructeur Région",
    "Jury territorial", "Jury régional", "Président du jury", "Service conventions", "Automatique",
}
FLOW_NODES = [
    "startEvent", "endEvent", "boundaryEvent", "intermediateCatchEvent", "intermediateThrowEvent",
    "userTask", "scriptTask", "businessRuleTask", "serviceTask", "manualTask", "task", "callActivity",
    "subProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
]
ISSUES = {"inadapte", "hors_delai", "non_adequat", "irrecevable", "rejete_participation",
          "defavorable", "abandonne", "conventionne"}
PHASE_FILES = {
    "phase_contact.bpmn": "dsdt_contact", "phase_fiche.bpmn": "dsdt_fiche",
    "phase_dossier.bpmn": "dsdt_dossier", "phase_jury.bpmn": "dsdt_jury",
    "phase_decision.bpmn": "dsdt_decision", "phase_convention.bpmn": "dsdt_convention",
}


def _tree(path):
    return etree.parse(str(path))


def _parser(validate=False):
    parser = SpiffBpmnParser(validator=BpmnValidator() if validate else None)
    parser.add_bpmn_files([str(f) for f in BPMN_FILES])
    parser.add_dmn_files([str(f) for f in DMN_FILES])
    return parser


# --------------------------------------------------------------------------- static


def test_files_present():
    names = {f.name for f in BPMN_FILES}
    assert names == {"dsdt_candidature.bpmn", "convention_dsdt.bpmn", *PHASE_FILES}
    assert [f.name for f in DMN_FILES] == ["avis_jury.dmn"]


def test_everything_parses_and_validates():
    parser = _parser(validate=True)
    spec = parser.get_spec("dsdt_candidature")
    subs = parser.get_subprocess_specs("dsdt_candidature")
    assert set(subs) == set(PHASE_FILES.values())
    assert {"phase_contact", "phase_fiche", "phase_dossier", "phase_jury",
            "phase_decision", "phase_convention"} <= set(spec.task_specs)


@pytest.mark.parametrize("name,process_id", sorted(PHASE_FILES.items()))
def test_one_phase_per_file(name, process_id):
    processes = _tree(PROCESSES / name).findall("bpmn:process", NS)
    assert [p.get("id") for p in processes] == [process_id]


def test_element_ids_are_globally_unique():
    seen = {}
    for path in BPMN_FILES + DMN_FILES:
        for el in _tree(path).iter():
            ident = el.get("id") if isinstance(el.tag, str) else None
            if ident:
                assert ident not in seen, f"id {ident} in {path.name} and {seen[ident]}"
                seen[ident] = path.name


def _user_tasks():
    for path in BPMN_FILES:
        for task in _tree(path).iterfind(".//bpmn:userTask", NS):
            props = {p.get("name"): p.get("value")
                     for p in task.iterfind(".//spiffworkflow:property", NS)}
            yield path.name, task, props


@pytest.mark.parametrize("filename,task_id,props", [(f, t.get("id"), p) for f, t, p in _user_tasks()])
def test_user_task_forms(filename, task_id, props):
    schema_file = FORMS / props["formJsonSchemaFilename"]
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema.get("title")
    ui = json.loads((FORMS / props["formUiSchemaFilename"]).read_text(encoding="utf-8"))
    assert set(ui.get("ui:order", [])) <= set(schema["properties"])


def test_every_form_file_is_used():
    used = set()
    for _, _, props in _user_tasks():
        used.add(props["formJsonSchemaFilename"])
        used.add(props["formUiSchemaFilename"])
    assert {f.name for f in FORMS.glob("*.json")} == used


def test_user_tasks_have_instructions_and_lanes():
    for path in BPMN_FILES:
        tree = _tree(path)
        in_lane = {ref.text for ref in tree.iterfind(".//bpmn:lane/bpmn:flowNodeRef", NS)}
        for task in tree.iterfind(".//bpmn:userTask", NS):
            assert task.get("id") in in_lane, task.get("id")
            instr = task.find(".//spiffworkflow:instructionsForEndUser", NS)
            assert instr is not None and instr.text.strip(), task.get("id")


def test_porteur_tasks_are_assigned_to_the_porteur():
    for path in BPMN_FILES:
        tree = _tree(path)
        for lane in tree.iterfind(".//bpmn:lane", NS):
            if lane.get("name") != "Porteur de projet":
                continue
            for ref in lane.iterfind("bpmn:flowNodeRef", NS):
                task = tree.find(f".//bpmn:userTask[@id='{ref.text}']", NS)
                if task is not None:
                    prop = task.find(".//spiffworkflow:property[@name='assigneeVariable']", NS)
                    assert prop is not None and prop.get("value") == "porteur", ref.text


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_lanes_and_diagram_interchange(path):
    tree = _tree(path)
    for lane in tree.iterfind(".//bpmn:lane", NS):
        assert lane.get("name") in LANES
    shapes = {s.get("bpmnElement") for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    for tag in FLOW_NODES:
        for node in tree.iterfind(f".//bpmn:process/bpmn:{tag}", NS):
            assert node.get("id") in shapes, node.get("id")
    for el in tree.iterfind(".//bpmn:lane", NS):
        assert el.get("id") in shapes
    for el in tree.iterfind(".//bpmn:participant", NS):
        assert el.get("id") in shapes
    for flow in tree.iterfind(".//bpmn:sequenceFlow", NS):
        assert flow.get("id") in edges


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_flow_nodes_do_not_overlap(path):
    tree = _tree(path)
    boxes = []
    for tag in FLOW_NODES:
        if tag == "boundaryEvent":
            continue  # sits on its task's border by design
        for node in tree.iterfind(f".//bpmn:process/bpmn:{tag}", NS):
            shape = tree.find(f".//bpmndi:BPMNShape[@bpmnElement='{node.get('id')}']", NS)
            b = shape.find("{http://www.omg.org/spec/DD/20100524/DC}Bounds")
            boxes.append((node.get("id"), *(float(b.get(k)) for k in ("x", "y", "width", "height"))))
    for i, (a, ax, ay, aw, ah) in enumerate(boxes):
        for b, bx, by, bw, bh in boxes[i + 1:]:
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, (a, b)


def test_timers_read_deadlines_from_data():
    for path in BPMN_FILES:
        for td in _tree(path).iterfind(".//bpmn:timeDate", NS):
            assert "campagne[" in td.text or "recevabilite[" in td.text


# --------------------------------------------------------------------------- smoke runs


SPECS = None


def new_workflow(campagne):
    global SPECS
    if SPECS is None:
        parser = _parser()
        SPECS = parser.get_spec("dsdt_candidature"), parser.get_subprocess_specs("dsdt_candidature")
    env = TaskDataEnvironment(dict(HELPERS))
    wf = BpmnWorkflow(SPECS[0], SPECS[1], script_engine=PythonScriptEngine(environment=env))
    start = wf.get_tasks(state=TaskState.READY)[0]
    start.data.update({
        "porteur": "asso.quartiers", "dossier_ref": "DSDT-2014-001", "issue": None, "motif_fin": None,
        "passage_jury": 1, "campagne": campagne,
    })
    wf.do_engine_steps()
    return wf


def campagne(fiche="2099-12-01T23:59:00+01:00", dossier="2099-01-23T23:59:00+01:00", territoriaux=None):
    return {
        "code": "DSDT-TEST", "libelle": "Campagne de test",
        "date_limite_fiche": fiche, "date_limite_dossier": dossier,
        "epci": {
            "CAB": {"nom": "CA du Boulonnais", "priorites": ["jeunesse", "citoyenneté", "participation des habitants"]},
            "CAAC": {"nom": "CA Artois-Comm", "priorites": ["renouvellement urbain", "santé"]},
            "CAVM": {"nom": "CA Valenciennes Métropole", "priorites": ["citoyenneté", "jeunesse", "santé"]},
        },
        "jurys": {
            "territoriaux": territoriaux if territoriaux is not None else {
                "CAB": {"president": "pres.cab", "membres": ["elu.cab1", "elu.cab2", "elu.cab3"], "quorum": 3},
            },
            "regional": {"president": "pres.region", "membres": ["elu.reg1", "elu.reg2"], "quorum": 2},
        },
    }


def ready(wf):
    return [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.manual]


def ready_task(wf, bpmn_id):
    """The first ready task ``bpmn_id``."""
    tasks = [t for t in ready(wf) if t.task_spec.bpmn_id == bpmn_id]
    assert tasks, f"{bpmn_id} not ready; ready: {[t.task_spec.bpmn_id for t in ready(wf)]}"
    return tasks[0]


def complete(wf, bpmn_id, form, user=None):
    """Submit ``form`` on the first ready task ``bpmn_id`` like the engine does."""
    task = ready_task(wf, bpmn_id)
    props = task.task_spec.extensions.get("properties", {})
    if user is not None:
        assert task.data[props["assigneeVariable"]] == user
    jsonschema.validate(form, json.loads((FORMS / props["formJsonSchemaFilename"]).read_text(encoding="utf-8")))
    task.data[props.get("formDataVariable", bpmn_id)] = form
    task.run()
    wf.do_engine_steps()
    return task


def final(wf):
    assert wf.is_completed(), [t.task_spec.bpmn_id for t in ready(wf)]
    data = wf.data
    assert data["issue"] in ISSUES
    assert data["motif_fin"]
    return data


CONTACT = {
    "organisation": "Association Quartiers Solidaires", "statut_juridique": "association",
    "siret": "12345678900012", "rna": "W623001234", "contact_nom": "Claire Martin",
    "contact_email": "claire.martin@example.org", "epci": "CAB", "commune": "Boulogne-sur-Mer",
    "quartier": "Transmanche", "theme": "jeunesse", "titre_projet": "Jardins partagés au Chemin Vert",
    "description": "Créer avec les habitants un jardin partagé animé par des jeunes du quartier.",
}
FICHE = {
    "titre": "Jardins partagés", "objectifs": "Recréer du lien entre générations.", "public_cible": "Jeunes 16-25 ans",
    "nombre_beneficiaires": 40, "territoire": "Boulogne-sur-Mer, Transmanche", "priorite": "jeunesse",
    "partenaires": [{"nom": "Centre social", "role": "Animation"}],
    "mobilisation_habitants": "Réunions de pied d'immeuble et chantiers ouverts.",
    "calendrier": "Mars à novembre 2015", "budget_global": 30000, "montant_demande": 12000,
    "cofinancements": [{"financeur": "Ville", "montant": 8000, "statut": "acquis"}],
}
MODE = {"mise_en_oeuvre": True, "description": "Ateliers ouverts à tous les habitants."}
DOSSIER = {
    "identite": {"denomination": "Quartiers Solidaires", "adresse": "1 rue de la Paix, Boulogne-sur-Mer",
                 "siret": "12345678900012", "representant_nom": "Paul Durand", "representant_qualite": "président"},
    "moyens_humains": {"benevoles": 12, "salaries": 2},
    "projet": {"objectifs": "Recréer du lien.", "beneficiaires": "40 jeunes", "date_debut": "2015-03-01",
               "date_fin": "2015-11-30", "moyens": "Un animateur, un terrain.", "indicateurs": "Participation."},
    "budget": [{"sens": "charge", "poste": "Personnel", "montant": 30000},
               {"sens": "produit", "poste": "Région", "montant": 12000}],
    "pieces": {"statuts": "att:1", "rib": "att:2", "comptes": "att:3", "rapport_activite": "att:4"},
    "partenariat": [{"partenaire": "Centre social", "role": "Animation", "engagement": "Un animateur"}],
    "mise_en_reseau": "Réseau des jardins partagés du Boulonnais.",
    "gouvernance_evaluation": "Comité de pilotage trimestriel avec les habitants.",
    "participation": {"mobilisation_publics": MODE, "experimentations": MODE, "co_construction": MODE, "gup": MODE},
}
RECEVABLE = {"decision": "recevable", "mobilisation_habitants": "reelle"}
NOTE = {"conflit_interet": False, "qualite_inventivite": 4, "partenariat": 4, "mise_en_reseau": 3,
        "gouvernance_evaluation": 4, "commentaire": "Projet solide."}
CONFLIT = {"conflit_interet": True}
JURY_CAB = ("elu.cab1", "elu.cab2", "elu.cab3")


def through_contact(wf):
    complete(wf, "contact", CONTACT, user="asso.quartiers")
    complete(wf, "avis_commune", {"avis": "favorable"})
    complete(wf, "verification_contact", {"decision": "adapte"})


def through_fiche(wf):
    complete(wf, "fiche", FICHE, user="asso.quartiers")
    complete(wf, "adequation_epci", {"decision": "adequate"})


def through_dossier(wf):
    through_contact(wf)
    through_fiche(wf)
    complete(wf, "dossier", DOSSIER, user="asso.quartiers")


def territorial_jury(wf):
    """Every member of the CAB jury scores the dossier (NOTE)."""
    for membre in JURY_CAB:
        complete(wf, "examen_territorial", NOTE, user=membre)


def favourable_opinion(wf, motivation, montant=12000, user=None):
    complete(wf, "confirmation_president", {"avis_final": "favorable", "motivation": motivation,
                                            "montant_propose": montant}, user=user)


def to_signature(wf):
    """The commission grants the amount and the convention is drafted: the porteur's signature is open."""
    complete(wf, "commission_permanente", {"decision": "accorde", "date_commission": "2015-04-10",
                                           "numero_deliberation": "20150410-12", "montant_vote": 12000})
    complete(wf, "redaction_convention", {
        "objet": "Financement des jardins partagés", "duree_mois": 12, "montant": 12000,
        "echeancier": [{"date": "2015-05-01", "montant": 8000}, {"date": "2015-12-01", "montant": 4000}],
        "obligations": "Rapport final.", "indicateurs": "Nombre de participants."})


def after_jury(wf):
    to_signature(wf)
    complete(wf, "signature_porteur", {"accepte": True, "signataire": "Paul Durand", "date_signature": "2015-05-02"},
             user="asso.quartiers")
    complete(wf, "signature_region", {"signataire": "Le Président du Conseil régional", "date_signature": "2015-05-10"})
    complete(wf, "notification_convention", {"date_notification": "2015-05-15"})


def test_happy_path_territorial_jury_with_rework():
    wf = new_workflow(campagne())
    complete(wf, "contact", CONTACT, user="asso.quartiers")
    complete(wf, "avis_commune", {"avis": "reserve", "commentaire": "Préciser le public."})
    complete(wf, "verification_contact", {"decision": "a_retravailler", "conseils": "Ciblez les 16-25 ans."})
    complete(wf, "contact", CONTACT, user="asso.quartiers")
    complete(wf, "avis_commune", {"avis": "favorable"})
    complete(wf, "verification_contact", {"decision": "adapte"})
    complete(wf, "fiche", FICHE, user="asso.quartiers")
    complete(wf, "adequation_epci", {"decision": "a_completer", "motif": "Précisez les cofinancements."})
    complete(wf, "fiche", FICHE, user="asso.quartiers")
    complete(wf, "adequation_epci", {"decision": "adequate"})
    complete(wf, "dossier", DOSSIER, user="asso.quartiers")
    complete(wf, "recevabilite", {"decision": "incomplet", "pieces_manquantes": "RIB à jour",
                                  "date_limite_reponse": "2099-02-15"})
    complete(wf, "complements", {"reponse": "Voici le RIB.", "pieces": ["att:9"]}, user="asso.quartiers")
    complete(wf, "recevabilite", RECEVABLE)
    territorial_jury(wf)
    president = ready_task(wf, "confirmation_president")
    assert president.data["avis_calcule"] == "favorable"
    assert president.data["note_moyenne"] == 3.75 and president.data["note_min"] == 3.0
    favourable_opinion(wf, "Projet exemplaire.", user="pres.cab")
    after_jury(wf)
    data = final(wf)
    assert data["issue"] == "conventionne"
    assert data["motif_fin"] == "Convention notifiée le 15/05/2015."
    assert data["jury_type"] == "territorial"
    assert data["epci"] == "CAB" and data["titre_projet"] == CONTACT["titre_projet"]


def test_regional_fallback_when_quorum_lost_then_adjourned():
    wf = new_workflow(campagne())
    through_dossier(wf)
    complete(wf, "recevabilite", RECEVABLE)
    complete(wf, "examen_territorial", NOTE, user="elu.cab1")
    complete(wf, "examen_territorial", CONFLIT, user="elu.cab2")
    complete(wf, "examen_territorial", NOTE, user="elu.cab3")
    # 2 of 3 left < quorum 3: the regional jury examines the dossier
    complete(wf, "examen_regional", {**NOTE, "mise_en_reseau": 1}, user="elu.reg1")
    complete(wf, "examen_regional", {**NOTE, "mise_en_reseau": 1}, user="elu.reg2")
    assert ready_task(wf, "confirmation_president").data["avis_calcule"] == "ajourne"  # weak criterion, first passage
    complete(wf, "confirmation_president", {"avis_final": "ajourne", "motivation": "Mise en réseau à renforcer.",
                                            "consignes_porteur": "Rejoignez un réseau local."}, user="pres.region")
    complete(wf, "remaniement_dossier", REMANIEMENT, user="asso.quartiers")
    # second passage: the territorial jury sits again
    territorial_jury(wf)
    favourable_opinion(wf, "Projet retravaillé.", montant=10000, user="pres.cab")
    after_jury(wf)
    data = final(wf)
    assert data["issue"] == "conventionne" and data["passage_jury"] == 2


def test_regional_jury_when_epci_has_no_territorial_jury():
    wf = new_workflow(campagne(territoriaux={}))
    through_dossier(wf)
    complete(wf, "recevabilite", RECEVABLE)
    complete(wf, "examen_regional", {**NOTE, "qualite_inventivite": 1, "partenariat": 1, "mise_en_reseau": 1,
                                     "gouvernance_evaluation": 1}, user="elu.reg1")
    complete(wf, "examen_regional", {**NOTE, "qualite_inventivite": 1, "partenariat": 2, "mise_en_reseau": 1,
                                     "gouvernance_evaluation": 1}, user="elu.reg2")
    assert ready_task(wf, "confirmation_president").data["avis_calcule"] == "defavorable"
    complete(wf, "confirmation_president", {"avis_final": "defavorable", "motivation": "Projet trop peu construit."},
             user="pres.region")
    data = final(wf)
    assert data["issue"] == "defavorable" and data["jury_type"] == "regional"
    assert "Projet trop peu construit." in data["motif_fin"]


def test_fiche_hors_delai_by_timer():
    wf = new_workflow(campagne(fiche="2014-12-01T23:59:00+01:00"))
    through_contact(wf)
    wf.refresh_timers()
    wf.do_engine_steps()
    data = final(wf)
    assert data["issue"] == "hors_delai" and "2014-12-01" in data["motif_fin"]


def test_complements_not_provided_in_time():
    wf = new_workflow(campagne())
    through_dossier(wf)
    complete(wf, "recevabilite", {"decision": "incomplet", "pieces_manquantes": "Comptes 2013",
                                  "date_limite_reponse": "2015-02-10"})
    wf.refresh_timers()
    wf.do_engine_steps()
    assert final(wf)["issue"] == "irrecevable"


@pytest.mark.parametrize("form,issue", [
    ({"decision": "recevable", "mobilisation_habitants": "insuffisante", "motif": "Aucun habitant associé."},
     "rejete_participation"),
    ({"decision": "irrecevable", "motif": "Porteur non éligible."}, "irrecevable"),
])
def test_recevabilite_outcomes(form, issue):
    wf = new_workflow(campagne())
    through_dossier(wf)
    complete(wf, "recevabilite", form)
    assert final(wf)["issue"] == issue


@pytest.mark.parametrize("step", ["contact", "fiche", "dossier", "signature_porteur"])
def test_withdrawal_by_message(step):
    wf = new_workflow(campagne())
    if step != "contact":
        through_contact(wf)
    if step in ("dossier", "signature_porteur"):
        through_fiche(wf)
    if step == "signature_porteur":
        complete(wf, "dossier", DOSSIER)
        complete(wf, "recevabilite", RECEVABLE)
        territorial_jury(wf)
        favourable_opinion(wf, "Projet exemplaire.")
        to_signature(wf)
    assert [t.task_spec.bpmn_id for t in ready(wf)] == [step]
    wf.catch(BpmnEvent(MessageEventDefinition("retrait_porteur"), payload={"motif": "Projet reporté"}))
    wf.do_engine_steps()
    data = final(wf)
    assert data["issue"] == "abandonne"
    assert data["motif_fin"] == "Retrait du porteur : Projet reporté"


@pytest.mark.parametrize("forms,issue", [
    ([("verification_contact", {"decision": "inadapte", "motif": "Hors quartier prioritaire."})], "inadapte"),
    ([("verification_contact", {"decision": "adapte"}), ("fiche", FICHE),
      ("adequation_epci", {"decision": "non_adequate", "motif": "Sans lien avec les priorités."})], "non_adequat"),
])
def test_early_closures(forms, issue):
    wf = new_workflow(campagne())
    complete(wf, "contact", CONTACT)
    complete(wf, "avis_commune", {"avis": "defavorable", "commentaire": "Hors QPV."})
    for bpmn_id, form in forms:
        complete(wf, bpmn_id, form)
    assert final(wf)["issue"] == issue


def test_refusals_after_the_jury():
    wf = new_workflow(campagne())
    through_dossier(wf)
    complete(wf, "recevabilite", RECEVABLE)
    territorial_jury(wf)
    favourable_opinion(wf, "Bon projet.")
    complete(wf, "commission_permanente", {"decision": "refuse", "date_commission": "2015-04-10",
                                           "numero_deliberation": "12", "motif": "Enveloppe épuisée."})
    data = final(wf)
    assert data["issue"] == "defavorable" and "Enveloppe épuisée." in data["motif_fin"]


# --------------------------------------------------------------------------- rules that fail closed


def submit_unchecked(wf, bpmn_id, form):
    """Submit ``form`` without the form's validation: what a script, an API client of an older
    form version or a modeller's typo could leave in the data."""
    task = ready_task(wf, bpmn_id)
    task.data[task.task_spec.extensions.get("properties", {}).get("formDataVariable", bpmn_id)] = form
    task.run()
    wf.do_engine_steps()


@pytest.mark.parametrize("form", [
    {"decision": "recevable", "mobilisation_habitants": "partielle"},
    {"decision": "recevable", "mobilisation_habitants": None},
    {"decision": "recevable"},
])
def test_participation_rule_fails_closed(form):
    """Only an explicit "reelle" lets a dossier through the eliminatory participation rule."""
    wf = new_workflow(campagne())
    through_dossier(wf)
    submit_unchecked(wf, "recevabilite", form)
    assert final(wf)["issue"] == "rejete_participation"


def test_unknown_admissibility_decision_is_not_admissible():
    wf = new_workflow(campagne())
    through_dossier(wf)
    submit_unchecked(wf, "recevabilite", {"decision": "Recevable", "mobilisation_habitants": "reelle"})
    assert final(wf)["issue"] == "irrecevable"


RECONSTITUTION = {"date_session": "2015-04-02", "commentaire": "Deux élus suppléants convoqués."}


def test_regional_jury_without_quorum_is_reconvened_and_never_decides():
    wf = new_workflow(campagne(territoriaux={}))
    through_dossier(wf)
    complete(wf, "recevabilite", RECEVABLE)
    complete(wf, "examen_regional", CONFLIT, user="elu.reg1")
    complete(wf, "examen_regional", CONFLIT, user="elu.reg2")
    task = ready_task(wf, "reconstitution_jury")
    assert [t.task_spec.bpmn_id for t in ready(wf)] == ["reconstitution_jury"]
    assert "avis_calcule" not in task.data and task.data.get("note_moyenne") is None
    complete(wf, "reconstitution_jury", RECONSTITUTION)
    complete(wf, "examen_regional", NOTE, user="elu.reg1")
    complete(wf, "examen_regional", NOTE, user="elu.reg2")
    president = ready_task(wf, "confirmation_president")
    assert president.data["avis_calcule"] == "favorable" and president.data["passage_jury"] == 1


def test_every_member_in_conflict_on_a_second_passage_is_not_unfavourable():
    """Before: the mean over no score was 0.0 and the table said "défavorable" on a second passage."""
    wf = new_workflow(campagne())
    through_dossier(wf)
    complete(wf, "recevabilite", RECEVABLE)
    for membre in JURY_CAB:
        complete(wf, "examen_territorial", {**NOTE, "partenariat": 1}, user=membre)
    complete(wf, "confirmation_president", {"avis_final": "ajourne", "motivation": "Partenariat à construire.",
                                            "consignes_porteur": "Associez les acteurs du quartier."})
    complete(wf, "remaniement_dossier", REMANIEMENT, user="asso.quartiers")
    for membre in JURY_CAB:
        complete(wf, "examen_territorial", CONFLIT, user=membre)
    for membre in ("elu.reg1", "elu.reg2"):
        complete(wf, "examen_regional", CONFLIT, user=membre)
    assert [t.task_spec.bpmn_id for t in ready(wf)] == ["reconstitution_jury"]
    assert not wf.is_completed()


REMANIEMENT = {"elements_retravailles": "Partenariat élargi au centre social et à la mission locale.",
               "pieces": ["att:12"]}


def test_adjourned_dossier_is_reworked_by_the_porteur_before_the_next_session():
    wf = new_workflow(campagne())
    through_dossier(wf)
    complete(wf, "recevabilite", RECEVABLE)
    for membre in JURY_CAB:
        complete(wf, "examen_territorial", {**NOTE, "partenariat": 1}, user=membre)
    complete(wf, "confirmation_president", {"avis_final": "ajourne", "motivation": "Partenariat à construire.",
                                            "consignes_porteur": "Associez les acteurs du quartier."})
    task = ready_task(wf, "remaniement_dossier")
    assert [t.task_spec.bpmn_id for t in ready(wf)] == ["remaniement_dossier"]
    assert task.data["passage_jury"] == 2
    complete(wf, "remaniement_dossier", REMANIEMENT, user="asso.quartiers")
    territorial_jury(wf)
    favourable_opinion(wf, "Projet retravaillé.")
    after_jury(wf)
    data = final(wf)
    assert data["issue"] == "conventionne" and data["remaniement_dossier"] == REMANIEMENT


def _withdrawable(wf):
    return any(event.name == "retrait_porteur" for event in wf.waiting_events())


def test_withdrawal_ends_when_the_porteur_signs_the_convention():
    wf = new_workflow(campagne())
    through_dossier(wf)
    complete(wf, "recevabilite", RECEVABLE)
    territorial_jury(wf)
    favourable_opinion(wf, "Projet exemplaire.")
    to_signature(wf)
    assert _withdrawable(wf)  # until the porteur signs
    complete(wf, "signature_porteur", {"accepte": True, "signataire": "Paul Durand", "date_signature": "2015-05-02"},
             user="asso.quartiers")
    assert [t.task_spec.bpmn_id for t in ready(wf)] == ["signature_region"]
    assert not _withdrawable(wf)
    complete(wf, "signature_region", {"signataire": "Le Président du Conseil régional", "date_signature": "2015-05-10"})
    assert not _withdrawable(wf)
    complete(wf, "notification_convention", {"date_notification": "2015-05-15"})
    assert final(wf)["issue"] == "conventionne"
