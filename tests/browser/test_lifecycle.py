"""Whole applications through the pages, each step done by the person of that role.

The data typed into each form is generated from the step's JSON Schema by the simulator's fake
data generator (the same as the demo's), with the decisions of the path under test; the test
types it in the browser field by field and submits the form as a person would.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from webapp import demo

from .conftest import Visit, one_row_each

PORTEUR = "porteur1"
EPCI = "CAB"


@pytest.fixture(scope="module")
def attachment(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pieces") / "piece-jointe.pdf"
    path.write_bytes(demo.DEMO_PDF)
    return path


class Walk:
    """One dossier walked through the pages."""

    def __init__(self, visit: Visit, services, attachment: Path):
        self.visit = visit
        self.services = services
        self.attachment = attachment
        self.driver = demo.DemoDriver(services, seed=11)
        self.driver._attachments = lambda value, *_: value  # files are uploaded through the form instead
        self.instance_id: int | None = None

    @property
    def ref(self) -> str:
        return self.services.queries.dossier(self.instance_id).ref

    def open_step(self, bpmn_id: str, login: str):
        open_views = self.services.engine.task_views(self.instance_id)
        views = [v for v in open_views if v.bpmn_id == bpmn_id]
        assert views, f"{bpmn_id} is not open on {self.ref}: {[v.bpmn_id for v in open_views]}"
        mine = [v for v in views if v.assignee in (None, login)]
        assert mine, f"no {bpmn_id} step for {login}"
        return mine[0]

    def data_for(self, view, login: str, overrides: dict | None = None) -> dict:
        """Valid data for the step (the demo's generator), with this path's decisions; one row per list."""
        overrides = {"contact": {"epci": EPCI}, **(overrides or {})}
        return one_row_each(self.driver.form_for(view, self.instance_id, login, overrides))

    # -- reaching the step's form -------------------------------------------------------------------
    def start(self) -> None:
        visit, page = self.visit, self.visit.page
        visit.goto("/dossiers/")
        visit.submit(page.get_by_role("button", name="Commencer (contact préalable)"))
        assert "/etape/" in page.url, page.url
        self.instance_id = int(page.url.split("/dossiers/")[1].split("/")[0])

    def reach_as_porteur(self, view) -> None:
        visit, page = self.visit, self.visit.page
        visit.goto("/dossiers/")
        visit.click_link(page.get_by_role("link", name=self.ref))
        visit.click_link(page.locator("#current-title ~ ul.steps").get_by_role("link", name=view.name))

    def reach_from_inbox(self, view, screenshot: str | None = None) -> None:
        visit, page = self.visit, self.visit.page
        visit.goto("/taches/")
        if screenshot:
            visit.screenshot(screenshot)
        page.select_option("#etape", value=view.bpmn_id)
        visit.submit(page.locator("form.filters button[type=submit]"))
        row = page.locator("table.inbox tbody tr").filter(has_text=self.ref)
        assert row.count() == 1, f"{self.ref} not in the inbox for {view.bpmn_id}"
        visit.click_link(row.get_by_role("link", name=view.name))

    # -- doing it -------------------------------------------------------------------------------------
    def complete(self, view, login: str, data: dict) -> None:
        visit, page = self.visit, self.visit.page
        assert f"/etape/{view.ref}" in unquote(page.url), page.url
        visit.fill_form(data, self.attachment)
        visit.submit(page.get_by_role("button", name="Valider l’étape"))
        flash = page.locator(".flash-success")
        assert flash.count(), f"{view.bpmn_id} by {login} not validated: " + page.locator("main").inner_text()[:1500]

    def step(self, bpmn_id: str, login: str, overrides: dict | None = None, inbox_shot: str | None = None) -> None:
        with self.visit.as_user(login):
            view = self.open_step(bpmn_id, login)
            if login.startswith("porteur"):
                self.reach_as_porteur(view)
            else:
                self.reach_from_inbox(view, inbox_shot)
            self.complete(view, login, self.data_for(view, login, overrides))

    def to_recevabilite(self, porteur: str, inbox_shot: str | None = None) -> None:
        """From the contact validated to the dossier filed: commune, EPCI, then the porteur's fiche and dossier."""
        self.step("avis_commune", "tech.commune.cab", inbox_shot=inbox_shot)
        self.step("verification_contact", "tech.epci.cab")
        self.step("fiche", porteur)
        self.step("adequation_epci", "tech.epci.cab")
        self.step("dossier", porteur)


def show_dossier_with_diagram(visit: Visit, walk: Walk) -> None:
    """The dossier page, once the diagram is drawn (then audited again, with the diagram in it)."""
    page = visit.page
    visit.goto(f"/dossiers/{walk.instance_id}")
    canvas = page.locator("#diagram-canvas")
    canvas.locator(".djs-element.dsdt-done").first.wait_for(state="visible")
    drawing = canvas.locator("svg[role=img]").first
    assert drawing.get_attribute("aria-label") and drawing.get_attribute("aria-describedby") == "diagram-text"
    visit.audit()


def test_application_walked_to_a_signed_convention(visit, live_services, attachment, artifacts):
    walk = Walk(visit, live_services, attachment)
    page = visit.page

    with visit.as_user(PORTEUR):
        walk.start()
        view = walk.open_step("contact", PORTEUR)
        data = walk.data_for(view, PORTEUR)
        # First a form with mistakes: each wrong field gets its message, nothing typed is lost.
        wrong = {**data, "siret": "123", "contact_email": "pas-un-courriel", "titre_projet": ""}
        visit.fill_form(wrong, attachment)
        visit.submit(page.get_by_role("button", name="Valider l’étape"))
        assert page.locator("#form-message").count()
        assert page.locator('[aria-invalid="true"]').count() >= 3
        assert page.locator('input[name="f.organisation"]').input_value() == data["organisation"]
        visit.screenshot("task-form-validation-errors")
        walk.complete(view, PORTEUR, data)

    walk.to_recevabilite(PORTEUR, inbox_shot="inbox")
    walk.step("recevabilite", "instructeur1")
    # The jury the dossier's start journaled (engine.juries): what the pages and the engine read.
    jury_cab = live_services.queries.jury_sessions([walk.instance_id])[walk.instance_id]["territoriaux"][EPCI]
    for member in jury_cab["membres"]:
        walk.step("examen_territorial", member)
    walk.step("confirmation_president", jury_cab["president"])

    # Midway, the instance page shows the diagram with the done phases and the current one.
    with visit.as_user("instructeur1"):
        show_dossier_with_diagram(visit, walk)
        main_marks = page.locator("#diagram-canvas .djs-element.dsdt-current")
        assert main_marks.count() == 1  # the decision phase, on the main process
        # Switch to the phase diagrams with the keyboard: the select is a plain, labelled <select>.
        options = page.locator("#diagram-select option")
        assert options.count() == 6  # main process + contact, fiche, dossier, jury, decision
        page.get_by_label("Processus affiché").focus()
        for _ in range(options.count() - 1):
            page.keyboard.press("ArrowDown")
        page.locator('#diagram-canvas [data-element-id="commission_permanente"].dsdt-current').wait_for()
        assert "commission" in page.locator("#diagram-canvas svg[role=img]").get_attribute("aria-label").lower()
        page.select_option("#diagram-select", index=0)
        page.locator("#diagram-canvas .djs-element.dsdt-current").first.wait_for()
        visit.screenshot("instance-page-diagram")
        view = walk.open_step("commission_permanente", "instructeur1")
        walk.reach_from_inbox(view)
        walk.complete(view, "instructeur1", walk.data_for(view, "instructeur1"))

    walk.step("redaction_convention", "conventions1")
    walk.step("signature_porteur", PORTEUR)
    walk.step("signature_region", "conventions1")
    walk.step("notification_convention", "conventions1")

    with visit.as_user(PORTEUR):
        visit.goto("/dossiers/")
        row = page.locator("table.dossiers tbody tr").filter(has_text=walk.ref)
        assert "Conventionné" in row.inner_text()
        show_dossier_with_diagram(visit, walk)
        assert page.locator("#diagram-canvas .djs-element.dsdt-current").count() == 0
        assert page.locator('#diagram-canvas [data-element-id="phase_convention"].dsdt-done').count() == 1
        visit.screenshot("instance-page-conventionne")
    assert live_services.queries.dossier(walk.instance_id).outcome == "conventionne"
    assert len(visit.audited) > 60


def test_application_refused_at_the_participation_rule(visit, open_visit, live_services, attachment):
    walk = Walk(visit, live_services, attachment)
    page = visit.page
    with visit.as_user("porteur2"):
        walk.start()
        view = walk.open_step("contact", "porteur2")
        walk.complete(view, "porteur2", walk.data_for(view, "porteur2"))
    walk.to_recevabilite("porteur2")
    walk.step(
        "recevabilite",
        "instructeur2",
        {"recevabilite": {"decision": "recevable", "mobilisation_habitants": "insuffisante"}},
    )
    with visit.as_user("porteur2"):
        visit.goto("/dossiers/")
        row = page.locator("table.dossiers tbody tr").filter(has_text=walk.ref)
        text = row.inner_text()
        assert "participation des habitants insuffisante" in text
        dossier = live_services.queries.dossier(walk.instance_id)
        assert dossier.outcome == "rejete_participation" and dossier.reason
        assert dossier.reason in text  # the reason, in the porteur's own words of the Région
        visit.click_link(row.get_by_role("link", name=walk.ref))
        assert dossier.reason in page.locator(".summary").inner_text()

    # Without JavaScript the page still says where the dossier went (the text alternative of the diagram).
    plain = open_visit(javascript=False)
    with plain.as_user("porteur2"):
        plain.goto(f"/dossiers/{walk.instance_id}")
        assert plain.page.locator("#diagram-canvas").is_hidden()
        text = plain.page.locator("#diagram-text").inner_text()
        assert "Examiner la recevabilité" in text and "Déposer le dossier complet" in text
