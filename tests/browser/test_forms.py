"""The task form in the browser: rows added and removed by forms.js, the same form without JavaScript,
the error summary and the draft reminder. axe-core audits every page reached (see conftest.Visit)."""

from __future__ import annotations

import pytest

from engine import Actor, roles
from webapp import demo

from .conftest import ROOT

PORTEUR = "porteur2"
FORMS_JS = ROOT / "webapp" / "static" / "build" / "forms.js"


@pytest.fixture(scope="module")
def task_path(live_services):
    """The porteur's "dossier" step (budget lines, partners, files) of a fresh application."""
    if not FORMS_JS.exists():
        pytest.fail(f"{FORMS_JS} is missing: run bin/setup (npm run build)")
    code = live_services.queries.campaigns(open_only=True)[0].code
    instance_id = live_services.engine.start(Actor(PORTEUR, frozenset({roles.PORTEUR})), code)
    demo.DemoDriver(live_services).advance(instance_id, PORTEUR, "dossier", {"contact": {"epci": "CAB"}})
    step = live_services.queries.dossier(instance_id).open_steps[0]
    assert step.bpmn_id == "dossier"
    return f"/dossiers/{instance_id}/etape/{step.task_ref}"


def _budget_rows(page):
    return page.locator("#f-budget > .sf-rows-list > .sf-row")


def _fill_budget_row(page, index: int, sens: str, poste: str, montant: str) -> None:
    page.check(f'input[name="f.budget.{index}.sens"][value="{sens}"]')
    page.fill(f'input[name="f.budget.{index}.poste"]', poste)
    page.fill(f'input[name="f.budget.{index}.montant"]', montant)


def test_rows_are_added_and_removed_with_buttons(visit, task_path):
    page = visit.page
    visit.login(PORTEUR)
    visit.goto(task_path)
    # The no-JS hint gives way to the buttons; the only budget line cannot go (minItems 1).
    assert not page.get_by_text("Enregistrez le brouillon pour obtenir une ligne supplémentaire.").first.is_visible()
    add = page.get_by_role("button", name="Ajouter une ligne : Budget prévisionnel")
    rows = _budget_rows(page)
    assert rows.count() == 1
    assert rows.nth(0).locator(".sf-remove-row").is_disabled()
    assert page.locator("#unsaved-notice").inner_text() == ""

    _fill_budget_row(page, 0, "charge", "Achats de graines", "1200")
    assert "Modifications non enregistrées" in page.locator("#unsaved-notice").inner_text()
    add.click()
    assert rows.count() == 2
    assert page.evaluate("document.activeElement.name") == "f.budget.1.sens"  # focus goes to the new row
    _fill_budget_row(page, 1, "produit", "Subvention commune", "500")
    add.click()
    _fill_budget_row(page, 2, "produit", "Subvention Région", "700")
    # Removing the middle line renumbers the next one, its typed values kept.
    page.get_by_role("button", name="Supprimer la ligne « Budget prévisionnel n° 2 »").click()
    assert rows.count() == 2
    assert page.input_value('input[name="f.budget.1.poste"]') == "Subvention Région"
    assert page.locator('input[name="f.budget.2.poste"]').count() == 0
    assert rows.nth(1).locator(":scope > legend").inner_text() == "Budget prévisionnel n° 2"
    page.fill('textarea[name="f.projet.objectifs"]', "Cultiver ensemble")

    visit.submit(page.get_by_role("button", name="Valider l’étape"))  # incomplete: refused, every error listed
    assert page.locator("#f-error-summary").count() == 1
    assert page.evaluate("document.activeElement.id") == "f-error-summary"
    assert [page.input_value(f'input[name="f.budget.{i}.poste"]') for i in (0, 1)] == [
        "Achats de graines",
        "Subvention Région",
    ]
    assert page.input_value('textarea[name="f.projet.objectifs"]') == "Cultiver ensemble"
    assert page.locator("#f-budget-1--row .sf-remove-row").is_enabled()
    visit.screenshot("task-form-rows-errors")

    visit.submit(page.get_by_role("button", name="Enregistrer le brouillon"))
    assert "Dernier enregistrement du brouillon" in page.locator("#draft-status").inner_text()
    assert _budget_rows(page).count() == 3  # the two saved lines and the server's empty one


def test_rows_without_javascript(open_visit, task_path):
    visit = open_visit(javascript=False)
    page = visit.page
    visit.login(PORTEUR)
    visit.goto(task_path)
    assert page.get_by_text("Enregistrez le brouillon pour obtenir une ligne supplémentaire.").first.is_visible()
    assert page.get_by_role("button", name="Ajouter une ligne : Budget prévisionnel").count() == 0
    before = _budget_rows(page).count()
    last = before - 1  # the empty row the server always adds
    _fill_budget_row(page, last, "charge", "Location de salle", "300")
    visit.submit(page.get_by_role("button", name="Enregistrer le brouillon"))
    assert _budget_rows(page).count() == before + 1
    assert page.input_value(f'input[name="f.budget.{last}.poste"]') == "Location de salle"
