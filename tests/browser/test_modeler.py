"""A process owner changes the process in the browser, on a server and database of this module's own
(it deploys a version 2 and migrates a dossier: the other browser tests keep the model they expect).

The scenario of issue 9: the jury phase opened in the modeler; a timer set to a value that does not
compile, the error seen on the element, fixed; a field added to a form and seen in the preview; a
decision row changed in dmn-js; version 2 deployed; the draft tested against history (part D's
page); a running dossier migrated on the versions page; that dossier then completes on version 2
(driven through the engine, as the other people would). axe-core audits every page, the modeler
with its diagram drawn and the properties panel open. Screenshots go to test-artifacts/, and with
DSDT_SCREENSHOTS=1 to docs/screenshots/ at 1280x800 (the process owners' guide).
"""

from __future__ import annotations

import json
import os
import threading

import pytest

from engine import Actor, EngineConfig, FixedClock, WorkflowEngine, roles
from engine.persistence.models import Deployment
from webapp import create_app, demo
from webapp.services import build

from .conftest import NOW, ROOT

GUIDE_SHOTS = ROOT / "docs" / "screenshots"

TIMER = 'campagne["date_limite_fiche"]'
BROKEN = 'campagne["date_limite_fiche"'


def _ready(page):
    page.locator("#modeler.modeler-ready").wait_for(state="attached", timeout=20_000)


@pytest.fixture(scope="module")
def live_services(tmp_path_factory):
    """The models deployed (version 1), the campaigns, the demo accounts and one dossier waiting for
    its commune's opinion: this module's own database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('modeler-browser') / 'dsdt.sqlite'}"
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=FixedClock(NOW))
    services = build({}, engine)
    engine.deploy_directory(ROOT, author="browser-tests")
    code = demo.ensure_campaigns(engine, NOW.date())
    for login, name, held, scope in demo.demo_users(engine):
        services.accounts.create(login, demo.DEMO_PASSWORD, roles=held, epci=scope, full_name=name,
                                 email=f"{login}@demo.dsdt.example")
    instance_id = engine.start(Actor("porteur3", frozenset({roles.PORTEUR})), code)
    demo.DemoDriver(services).advance(instance_id, "porteur3", "avis_commune", {"contact": {"epci": "CAB"}})
    services.running_dossier = instance_id
    yield services
    engine.close()


@pytest.fixture(scope="module")
def live_server(live_services, tmp_path_factory):
    from werkzeug.serving import make_server

    app = create_app({"SECRET_KEY": "browser-tests-modeler", "DSDT_ENGINE": live_services.engine,
                      "DSDT_DATABASE_URL": live_services.engine.db.url})
    app.instance_path = str(tmp_path_factory.mktemp("instance-modeler"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="dsdt-live-server-modeler", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def _shot(visit, name: str) -> None:
    """A screenshot in test-artifacts/, and for the guide (1280x800) when DSDT_SCREENSHOTS=1."""
    visit.screenshot(name)
    if os.environ.get("DSDT_SCREENSHOTS") == "1":
        GUIDE_SHOTS.mkdir(parents=True, exist_ok=True)
        page = visit.page
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=str(GUIDE_SHOTS / f"{name}.png"))
        page.set_viewport_size({"width": 1280, "height": 900})


def _version_of(services, instance_id: int) -> int:
    engine = services.engine
    with engine.session() as session:
        return session.get(Deployment, engine.instance(instance_id).deployment_id).version


def test_owner_changes_the_process_deploys_version_2_and_migrates_a_dossier(visit, live_services):
    page = visit.page
    services = live_services
    dossier = services.running_dossier
    before = services.overview.versions()[0].version
    assert _version_of(services, dossier) == before
    with visit.as_user("process.owner"):
        visit.goto("/modeler/")
        _shot(visit, "modeler-drafts")
        page.fill("#draft-name", "navigateur")
        visit.submit(page.get_by_role("button", name="Créer le brouillon"))
        _ready(page)

        # 1. The jury phase, opened in the modeler.
        visit.click_link(page.get_by_role("link", name="processes/phase_jury.bpmn"))
        _ready(page)
        assert page.locator('.djs-element[data-element-id="calcul_avis"]').count() >= 1
        _shot(visit, "modeler-jury-phase")

        # 2. The timer of the fiche's deadline, in the properties panel: an expression that does not compile,
        # seen on the element after the save.
        visit.click_link(page.get_by_role("link", name="processes/phase_fiche.bpmn"))
        _ready(page)
        page.locator('.djs-element[data-element-id="fiche_delai"]').first.click(force=True)
        header = page.locator('.bio-properties-panel-group[data-group-id="group-timer"] '
                              '.bio-properties-panel-group-header')
        if "open" not in (header.get_attribute("class") or ""):
            header.click()
        value = page.locator("#bio-properties-panel-timerEventDefinitionValue")
        assert value.input_value() == TIMER
        value.fill(BROKEN)
        value.press("Tab")
        page.wait_for_function(
            "() => window.dsdtModeler.get('elementRegistry').get('fiche_delai').businessObject"
            ".eventDefinitions[0].timeDate.body.endsWith('\"')")
        page.get_by_role("button", name="Enregistrer").click()
        problem = page.locator(".modeler-problems button", has_text="fiche_delai")
        problem.wait_for(timeout=15_000)
        marked = page.locator('.djs-element.dsdt-problem[data-element-id="fiche_delai"]')
        assert marked.count() == 1
        assert page.locator('.dsdt-problem-badge[data-element-id="fiche_delai"]').is_visible()
        assert "Révision 2" in page.locator(".draft-revision").first.inner_text()
        visit.audit()
        _shot(visit, "modeler-timer-error")

        # 3. Fixed: saved again, the server's check finds nothing, the marks are gone.
        value.fill(TIMER)
        value.press("Tab")
        page.wait_for_function(
            "() => window.dsdtModeler.get('elementRegistry').get('fiche_delai').businessObject"
            ".eventDefinitions[0].timeDate.body.endsWith(']')")
        page.get_by_role("button", name="Enregistrer").click()
        page.locator(".modeler-problems li", has_text="Aucun problème").wait_for(timeout=15_000)
        assert marked.count() == 0

        # 4. A new field in a form, seen in the preview drawn by the server's renderer, then saved.
        visit.goto("/modeler/brouillons/navigateur/formulaire/notification_convention")
        schema = json.loads(page.locator("#form-schema").input_value())
        schema["properties"]["reference_courrier"] = {"type": "string", "title": "Référence du courrier",
                                                      "maxLength": 200}
        page.locator("#form-schema").fill(json.dumps(schema, ensure_ascii=False, indent=2))
        page.locator("#form-preview label", has_text="Référence du courrier").wait_for(timeout=15_000)
        visit.audit()
        _shot(visit, "modeler-form-preview")
        visit.submit(page.get_by_role("button", name="Enregistrer"))
        assert page.locator(".flash-success").count() == 1

        # 5. A decision row changed in dmn-js: rule 2's minimum score, typed in its cell.
        visit.goto("/modeler/brouillons/navigateur/dmn")
        cell = page.locator('td[data-element-id="avis_regle_2_in_4"]')
        cell.wait_for(timeout=20_000)
        cell.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(">= 1.5")
        page.keyboard.press("Tab")
        page.wait_for_function(
            "() => { const v = window.dsdtDmnModeler.getActiveViewer(); const e = v.get('elementRegistry')"
            ".get('avis_regle_2_in_4'); return e && e.businessObject.text === '>= 1.5'; }")
        visit.audit()
        _shot(visit, "modeler-decision-table")
        page.get_by_role("button", name="Enregistrer").click()
        page.locator(".draft-revision", has_text="Révision 5").first.wait_for(timeout=15_000)

        # 6. Deployed as the next version, with its comment.
        visit.goto("/modeler/brouillons/navigateur")
        _ready(page)
        page.fill("#deploy-comment", "Référence du courrier ; note minimale 1,5 pour un avis favorable")
        visit.submit(page.get_by_role("button", name="Déployer comme nouvelle version"))
        assert f"Version {before + 1} déployée" in page.locator(".flash-success").inner_text()

        # 7. Test against history (part D's page), when the draft page offers it: its progress is
        # followed by a script (no timed reload), and the page is audited like the others.
        history = page.get_by_role("button", name="Tester sur l’historique des dossiers")
        if history.count():
            with page.expect_navigation():
                history.click()
            page.locator("p[role=status]", has_text="Terminé").wait_for(timeout=60_000)
            visit.audit()
            _shot(visit, "modeler-history-check")

        # 8. The running dossier migrated on the versions page, with its reason.
        visit.goto("/modeler/versions")
        ref = services.engine.instance(dossier).ref
        page.fill("#migrate-to", str(before + 1))
        page.fill("#migrate-refs", ref)
        page.fill("#migrate-reason", "Nouvelle note minimale du jury")
        _shot(visit, "modeler-versions")
        visit.submit(page.get_by_role("button", name="Migrer"))
        assert "1 dossier(s) migré(s)" in page.locator(".flash-success").inner_text()
    latest = services.overview.versions()[0]
    assert (latest.version, latest.author) == (before + 1, "process.owner")
    assert _version_of(services, dossier) == before + 1

    # 9. The dossier then completes on version 2: the other people's steps, through the engine.
    demo.DemoDriver(services).advance(dossier, "porteur3", None, limit=80)
    finished = services.engine.instance(dossier)
    assert finished.status == "completed", services.engine.task_views(dossier)
    assert _version_of(services, dossier) == before + 1
    visit.assert_clean()


def _open_dsdt_group(page):
    header = page.locator('.bio-properties-panel-group[data-group-id="group-dsdt"] .bio-properties-panel-group-header')
    header.wait_for(timeout=10_000)
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def test_owner_sets_a_lane_role_reads_a_message_variable_and_opens_the_contract(visit):
    page = visit.page
    with visit.as_user("process.owner"):
        visit.goto("/modeler/")
        page.fill("#draft-name", "roles")
        visit.submit(page.get_by_role("button", name="Créer le brouillon"))
        _ready(page)
        # A message boundary event: its payload variable, in the DSDT group.
        page.evaluate("() => { const m = window.dsdtModeler; "
                      "m.get('selection').select(m.get('elementRegistry').get('cand_retrait_contact')); }")
        _open_dsdt_group(page)
        assert page.locator("#bio-properties-panel-dsdt-message-variable").input_value() == "retrait"

        # A lane: its role picked among the known ones sets the name the engine reads.
        visit.click_link(page.get_by_role("link", name="processes/phase_fiche.bpmn"))
        _ready(page)
        page.evaluate("() => { const m = window.dsdtModeler; "
                      "m.get('selection').select(m.get('elementRegistry').get('fiche_lane_epci')); }")
        _open_dsdt_group(page)
        select = page.locator("#bio-properties-panel-dsdt-lane-role")
        assert select.input_value() == "Technicien EPCI"
        assert "Porteur de projet (porteur)" in select.inner_text()
        select.select_option("Technicien commune")
        page.wait_for_function("() => window.dsdtModeler.get('elementRegistry').get('fiche_lane_epci')"
                               ".businessObject.name === 'Technicien commune'")
        visit.audit()
        _shot(visit, "modeler-lane-role")

        # The contract page: its JSON, saved unchanged as the next revision.
        visit.click_link(page.get_by_role("link", name="Contrat du modèle"))
        assert '"main_process": "dsdt_candidature"' in page.locator("#contract-json").input_value()
        visit.audit()
        visit.submit(page.get_by_role("button", name="Enregistrer"))
        assert "Contrat du modèle enregistré" in page.locator(".flash-success").inner_text()
    visit.assert_clean()
