"""A process owner edits a draft in the browser: bpmn-js Modeler and its properties panel, the
server's check shown on the element, the form editor's preview, deploy as version N+1.

axe-core audits every page (tests/browser/conftest.py), the modeler with its diagram drawn and the
properties panel open. The screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json

TIMER = 'campagne["date_limite_fiche"]'
BROKEN = 'campagne["date_limite_fiche"'


def _ready(page):
    page.locator("#modeler.modeler-ready").wait_for(state="attached", timeout=20_000)


def test_owner_fixes_a_timer_adds_a_form_field_and_deploys(visit, live_services):
    page = visit.page
    before = live_services.overview.versions()[0].version
    with visit.as_user("process.owner"):
        visit.goto("/modeler/")
        page.fill("#draft-name", "navigateur")
        visit.submit(page.get_by_role("button", name="Créer le brouillon"))
        _ready(page)
        visit.click_link(page.get_by_role("link", name="processes/phase_fiche.bpmn"))
        _ready(page)

        # The timer of the fiche's deadline, in the properties panel: an expression that does not compile.
        page.locator('.djs-element[data-element-id="fiche_delai"]').first.click(force=True)
        header = page.locator('.bio-properties-panel-group-header[data-group-id="group-timer"]')
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
        assert "Enregistré" in page.locator(".draft-revision").first.inner_text() or "Révision 2" in \
            page.locator(".draft-revision").first.inner_text()
        visit.audit()
        visit.screenshot("modeler-timer-error")

        # Fixed: saved again, the server's check finds nothing, the marks are gone.
        value.fill(TIMER)
        value.press("Tab")
        page.wait_for_function(
            "() => window.dsdtModeler.get('elementRegistry').get('fiche_delai').businessObject"
            ".eventDefinitions[0].timeDate.body.endsWith(']')")
        page.get_by_role("button", name="Enregistrer").click()
        page.locator(".modeler-problems li", has_text="Aucun problème").wait_for(timeout=15_000)
        assert marked.count() == 0

        # A new field in a form, seen in the preview drawn by the server's renderer, then saved.
        visit.goto("/modeler/brouillons/navigateur/formulaire/notification_convention")
        schema = json.loads(page.locator("#form-schema").input_value())
        schema["properties"]["reference_courrier"] = {"type": "string", "title": "Référence du courrier"}
        page.locator("#form-schema").fill(json.dumps(schema, ensure_ascii=False, indent=2))
        page.locator("#form-preview label", has_text="Référence du courrier").wait_for(timeout=15_000)
        visit.audit()
        visit.screenshot("modeler-form-preview")
        visit.submit(page.get_by_role("button", name="Enregistrer"))
        assert page.locator(".flash-success").count() == 1

        # Deployed as the next version, with its comment.
        visit.goto("/modeler/brouillons/navigateur")
        _ready(page)
        page.fill("#deploy-comment", "Référence du courrier de notification")
        visit.submit(page.get_by_role("button", name="Déployer comme nouvelle version"))
        assert f"Version {before + 1} déployée" in page.locator(".flash-success").inner_text()
    latest = live_services.overview.versions()[0]
    assert (latest.version, latest.author) == (before + 1, "process.owner")
    visit.assert_clean()
