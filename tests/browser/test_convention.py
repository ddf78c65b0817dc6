"""The Région–EPCI DSDT convention negotiated, voted and signed in the pages (issue 14), on a server
and database of this module's own (a signed convention changes the priorities the campaign offers
its EPCI: the other browser tests keep the campaign's typed ones).

The EPCI's technician opens the convention from the conventions page, registers the projet de
territoire and proposes priorities; the regional officer, reaching the steps from the inbox,
registers the diagnosis and sends the first version back (the return loop) with a
counter-proposal; the second version is agreed; the council's deliberation and the commission
permanente's vote are recorded with their dates and references; both parties sign. The pages then
say "Signée, en vigueur" with the signed priorities, and a porteur of that EPCI finds exactly those
priorities, and no other, among the fiche's choices. axe-core audits every page reached
(:class:`~tests.browser.conftest.Visit`).
"""

from __future__ import annotations

import threading
from urllib.parse import unquote

import pytest

from engine import Actor, EngineConfig, FixedClock, WorkflowEngine, convention_list, roles
from engine import campaigns_api as campaigns
from webapp import create_app, demo
from webapp.services import build

from .conftest import NOW, ROOT, Visit

EPCI = "CAAC"
TECH = "tech.epci.caac"
OFFICER = "instructeur1"
SERVICE = "conventions1"
PORTEUR = "porteur1"
FIRST = ["renouvellement urbain", "participation des habitants"]
SIGNED = ["renouvellement urbain", "participation des habitants", "accès aux droits"]


@pytest.fixture(scope="module")
def live_services(tmp_path_factory):
    """The models, the campaigns and the demo accounts, without any convention: this module's own database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('convention-browser') / 'dsdt.sqlite'}"
    engine = WorkflowEngine.from_config(EngineConfig(url, script_workers=1), clock=FixedClock(NOW))
    services = build({}, engine)
    engine.deploy_directory(ROOT, author="browser-tests")
    services.campaign_code = demo.ensure_campaigns(engine, NOW.date())
    for login, name, held, scope in demo.demo_users(engine):
        services.accounts.create(login, demo.DEMO_PASSWORD, roles=held, epci=scope, full_name=name,
                                 email=f"{login}@demo.dsdt.example")
    yield services
    engine.close()


@pytest.fixture(scope="module")
def live_server(live_services, tmp_path_factory):
    from werkzeug.serving import make_server

    app = create_app({"SECRET_KEY": "browser-tests-convention", "DSDT_ENGINE": live_services.engine,
                      "DSDT_DATABASE_URL": live_services.engine.db.url})
    app.instance_path = str(tmp_path_factory.mktemp("instance-convention"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="dsdt-live-server-convention", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


class ConventionPages:
    """One convention's steps, done in the pages by the person of each lane."""

    def __init__(self, visit: Visit, services):
        self.visit, self.page, self.services = visit, visit.page, services
        self.instance_id: int | None = None

    @property
    def ref(self) -> str:
        return self.services.queries.dossier(self.instance_id).ref

    def open_steps(self) -> list[str]:
        return [view.bpmn_id for view in self.services.engine.task_views(self.instance_id)]

    def view(self, bpmn_id: str):
        views = [v for v in self.services.engine.task_views(self.instance_id) if v.bpmn_id == bpmn_id]
        assert views, f"{bpmn_id} is not open on {self.ref}: {self.open_steps()}"
        return views[0]

    def open(self, campaign: str) -> None:
        """The technician opens the EPCI's convention from the conventions page."""
        visit, page = self.visit, self.page
        visit.goto("/conventions/")
        page.get_by_label("Campagne", exact=True).select_option(campaign)
        page.get_by_label("EPCI", exact=True).select_option(EPCI)
        visit.submit(page.get_by_role("button", name="Ouvrir la convention"))
        assert "/conventions/" in page.url and page.locator(".flash-success").count(), page.locator("main").inner_text()
        self.instance_id = int(page.url.rstrip("/").split("/conventions/")[1])

    # -- reaching a step: from the convention's page, or from the inbox --------------------------------
    def reach_from_page(self, bpmn_id: str) -> None:
        visit, page = self.visit, self.page
        view = self.view(bpmn_id)
        visit.goto(f"/conventions/{self.instance_id}")
        visit.click_link(page.locator("#current-title ~ ul.steps").get_by_role("link", name=view.name))

    def reach_from_inbox(self, bpmn_id: str) -> None:
        visit, page = self.visit, self.page
        view = self.view(bpmn_id)
        visit.goto("/taches/")
        page.select_option("#etape", value=bpmn_id)
        visit.submit(page.locator("form.filters button[type=submit]"))
        row = page.locator("table.inbox tbody tr").filter(has_text=self.ref)
        assert row.count() == 1, f"{self.ref} not in the inbox for {bpmn_id}"
        visit.click_link(row.get_by_role("link", name=view.name))

    # -- filling a step's form ------------------------------------------------------------------------
    def fill(self, name: str, value: str) -> None:
        self.page.locator(f'form.task-form [name="f.{name}"]').fill(value)

    def choose(self, name: str, value: str) -> None:
        form = self.page.locator("form.task-form")
        radios = form.locator(f'input[type=radio][name="f.{name}"][value="{value}"]')
        if radios.count():
            radios.check()
        else:
            form.locator(f'select[name="f.{name}"]').select_option(value=value)

    def list_of(self, name: str, values: list[str]) -> None:
        """Type a list of free values, adding rows with the form's button as a person would."""
        form = self.page.locator("form.task-form")
        group = form.locator(f'[data-rows="f.{name}"]')
        for index, value in enumerate(values):
            field = form.locator(f'[name="f.{name}.{index}"]')
            if field.count() == 0:
                group.locator(".sf-add-row").click()
            field.fill(value)

    def validate(self, bpmn_id: str) -> None:
        visit, page = self.visit, self.page
        assert f"/etape/{self.view(bpmn_id).ref}" in unquote(page.url), page.url
        visit.submit(page.get_by_role("button", name="Valider l’étape"))
        main = page.locator("main").inner_text()[:1500]
        assert page.locator(".flash-success").count(), f"{bpmn_id} not validated: {main}"

    def propose(self, priorities: list[str], comment: str) -> None:
        self.reach_from_page("conv_proposition")
        self.list_of("priorites", priorities)
        self.fill("commentaire", comment)
        self.validate("conv_proposition")

    def examine(self, decision: str, comment: str = "", counter: list[str] | None = None) -> None:
        self.reach_from_inbox("conv_examen")
        self.choose("decision", decision)
        self.fill("date_examen", NOW.date().isoformat())
        if comment:
            self.fill("commentaire", comment)
        if counter:
            self.list_of("contre_proposition", counter)
        self.validate("conv_examen")


def test_a_convention_negotiated_voted_and_signed_in_the_pages_sets_the_fiche_priorities(visit, live_services):
    services, page = live_services, visit.page
    campaign = services.campaign_code
    assert EPCI in campaigns.EPCI and set(SIGNED) != set(campaigns.EPCI[EPCI]["priorites"])  # not the typed ones
    convention = ConventionPages(visit, services)

    with visit.as_user(TECH):
        convention.open(campaign)
        assert convention.open_steps() == ["conv_projet_territoire"]
        # a second one while this one is negotiated: refused with the reason, nothing opened
        visit.goto("/conventions/")
        page.get_by_label("EPCI", exact=True).select_option(EPCI)
        visit.submit(page.get_by_role("button", name="Ouvrir la convention"))
        assert page.locator("#open-error").count() == 1 and convention.ref in page.locator("#open-error").inner_text()
        officer = Actor(OFFICER, frozenset({roles.INSTRUCTEUR}))
        listed = convention_list.list_conventions(services.engine, officer, EPCI)
        assert [c.id for c in listed] == [convention.instance_id]
        convention.reach_from_page("conv_projet_territoire")
        convention.fill("intitule", "Projet de territoire Artois-Comm 2030-2036")
        convention.fill("date_adoption", "2029-11-20")
        convention.fill("orientations", "Renouvellement urbain des quartiers et participation des habitants.")
        convention.validate("conv_projet_territoire")

    with visit.as_user(OFFICER):
        convention.reach_from_inbox("conv_diagnostic")
        convention.fill("date_diagnostic", "2030-01-15")
        convention.fill("constats", "Trois quartiers prioritaires, un accès aux droits difficile.")
        convention.fill("enjeux", "Rénovation urbaine et accès aux droits des habitants.")
        convention.validate("conv_diagnostic")

    with visit.as_user(TECH):
        convention.propose(FIRST, "Première version de l'EPCI.")
    with visit.as_user(OFFICER):  # the return loop: version 1 sent back with a counter-proposal
        convention.examine("a_revoir", "Ajouter l'accès aux droits, priorité du contrat de ville.", SIGNED)
    assert convention.open_steps() == ["conv_proposition"]
    with visit.as_user(TECH):
        visit.goto(f"/conventions/{convention.instance_id}")
        versions = page.locator("#versions-title ~ table tbody tr")
        assert versions.count() == 1 and "Ajouter l'accès aux droits" in versions.first.inner_text()
        convention.propose(SIGNED, "Accès aux droits ajouté.")
    with visit.as_user(OFFICER):
        convention.examine("accord")

    # both sides' votes, with their dates and references
    with visit.as_user(TECH):
        convention.reach_from_page("conv_deliberation_epci")
        convention.choose("vote", "adoptee")
        convention.fill("date_seance", "2030-02-12")
        convention.fill("numero_deliberation", "CC-2030-041")
        convention.validate("conv_deliberation_epci")
    with visit.as_user(OFFICER):
        convention.reach_from_inbox("conv_vote_cp")
        convention.choose("vote", "adoptee")
        convention.fill("date_seance", "2030-02-26")
        convention.fill("numero_deliberation", "CP-20300226-17")
        convention.validate("conv_vote_cp")

    # both parties sign
    with visit.as_user(TECH):
        convention.reach_from_page("conv_signature_epci")
        convention.fill("date_signature", "2030-03-01")
        convention.fill("signataire", "Le président d'Artois-Comm")
        convention.validate("conv_signature_epci")
    with visit.as_user(SERVICE):
        convention.reach_from_inbox("conv_signature_region")
        convention.fill("date_signature", "2030-03-04")
        convention.fill("signataire", "Le président du Conseil régional")
        convention.validate("conv_signature_region")

    with visit.as_user(TECH):
        visit.goto(f"/conventions/{convention.instance_id}")
        assert page.locator("#convention-state").inner_text() == "Signée, en vigueur"
        assert page.locator("#convention-priorities").inner_text() == ", ".join(SIGNED)
        versions = page.locator("#versions-title ~ table tbody tr")
        assert versions.count() == 2
        signed = page.locator("#signed-title ~ table tbody tr")
        assert signed.count() == 1
        row = signed.first.inner_text()
        assert "CC-2030-041 (2030-02-12)" in row and "CP-20300226-17 (2030-02-26)" in row
        visit.goto(f"/conventions/?epci={EPCI}")
        listed = page.locator("main table tbody tr").filter(has_text=convention.ref)
        assert listed.count() == 1 and "Signée, en vigueur" in listed.inner_text()
    data = services.engine.data(convention.instance_id)
    assert data["statut"] == "signee" and data["priorites_signees"] == SIGNED
    assert [v["avis_region"] for v in data["versions"]] == ["a_revoir", "accord"]

    # A porteur of that EPCI, applying now, is offered exactly the signed priorities.
    porteur = Actor(PORTEUR, frozenset({roles.PORTEUR}))
    dossier = services.engine.start(porteur, campaign)
    demo.DemoDriver(services).advance(dossier, PORTEUR, "fiche", {"contact": {"epci": EPCI}})
    fiche = [v for v in services.engine.task_views(dossier) if v.bpmn_id == "fiche"][0]
    with visit.as_user(PORTEUR):
        visit.goto(f"/dossiers/{dossier}")
        visit.click_link(page.locator("#current-title ~ ul.steps").get_by_role("link", name=fiche.name))
        assert f"/etape/{fiche.ref}" in unquote(page.url), page.url
        choice = page.locator('form.task-form [name="f.priorite"]')
        if choice.first.get_attribute("type") == "radio":
            offered = [choice.nth(i).get_attribute("value") for i in range(choice.count())]
        else:
            offered = [v for v in choice.locator("option").evaluate_all("os => os.map(o => o.value)") if v]
        assert offered == SIGNED
