"""An auditor in the browser: finds a dossier, steps through its replay on the diagram, reads a
before/after, checks its integrity, downloads the XES of the search; then an administrator finds
the journal row someone altered in the database named on the integrity page.

Every page goes through axe-core (tests/browser/conftest.py). With ``DSDT_SCREENSHOTS=1`` the
pages are also saved, at 1280x800, into docs/screenshots/ for docs/guide-auditor.md.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select, update

from engine import Actor, campaigns_api, roles
from engine.persistence.models import JournalEntry
from webapp import demo

from .conftest import NOW, ROOT

SHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture
def dossier(live_services):
    """A dossier of porteur3 taken through the contact and fiche phases (waiting for its dossier)."""
    engine = live_services.engine
    code = campaigns_api.open_campaign(NOW.date())[0]
    instance_id = engine.start(Actor("porteur3", frozenset({roles.PORTEUR})), code)
    demo.DemoDriver(live_services).advance(instance_id, "porteur3", "dossier", {"contact": {"epci": "CAB"}})
    return instance_id


def shot(visit, name: str, full_page: bool = False) -> None:
    if os.environ.get("DSDT_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        visit.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def diagram_at(page, entry: int) -> None:
    """Wait until the drawing shows ``entry`` (replay.js marks the canvas once it painted it)."""
    page.wait_for_selector(f'#diagram-canvas[data-entry="{entry}"] .djs-element', timeout=15_000)


def marked(page, kind: str) -> set[str]:
    return set(page.eval_on_selector_all(f".djs-element.{kind}", "els => els.map(e => e.dataset.elementId)"))


def test_auditor_replays_checks_and_exports_then_a_tampered_row_is_named(visit, live_services, dossier, tmp_path):
    engine = live_services.engine
    ref = engine.instance(dossier).ref
    page = visit.page
    page.set_viewport_size({"width": 1280, "height": 800})
    visit.login("auditeur")

    # 1. The search finds the dossier by its reference.
    visit.goto("/audit/")
    page.fill("#ref", ref)
    visit.submit(page.get_by_role("button", name="Rechercher"))
    found = page.locator("main table").get_by_role("link", name=ref, exact=True)
    assert found.count() == 1
    shot(visit, "audit-search")

    # 2. Its history, then the replay from the first entry, step by step.
    visit.click_link(found)
    visit.click_link(page.get_by_role("link", name="Rejouer pas à pas sur le schéma"))
    diagram_at(page, 1)
    assert marked(page, "dsdt-current") == {"phase_contact"}  # the token is in the contact phase
    assert "cand_retrait_contact" in marked(page, "dsdt-waiting")  # the porteur may withdraw
    assert page.locator('tr[data-field="contact.titre_projet"]').count() == 0
    assert "Décrire le projet" in page.locator(".replay-open").inner_text()
    visit.audit()
    shot(visit, "audit-replay-entry-1")

    page.get_by_role("link", name="Entrée suivante →").click()
    diagram_at(page, 2)
    assert page.url.endswith("?entree=2")
    assert page.locator('tr.replay-changed[data-field="contact.titre_projet"]').count() == 1  # typed by entry 2
    assert page.locator("#replay-entry-value").inner_text() == f"2 / {page.get_attribute('#replay-entry', 'max')}"
    page.eval_on_selector("#replay-state", "el => el.scrollIntoView()")
    shot(visit, "audit-replay-data")

    total = int(page.get_attribute("#replay-entry", "max"))
    page.fill("#replay-entry", str(total))  # the slider, to the last entry
    diagram_at(page, total)
    assert marked(page, "dsdt-current") == {"phase_dossier"}
    assert {"phase_contact", "phase_fiche"} <= marked(page, "dsdt-done")
    page.select_option("#diagram-select", label="Dossier complet et recevabilité")  # the phase running now
    page.wait_for_selector('.djs-element.dsdt-current[data-element-id="dossier"]')
    assert "Déposer le dossier" in page.locator(".replay-open").inner_text()
    visit.audit()
    shot(visit, "audit-replay-last-entry")

    page.get_by_role("link", name="← Entrée précédente").click()
    diagram_at(page, total - 1)
    assert page.url.endswith(f"?entree={total - 1}")

    # 3. A before/after of the history: what entry 2 changed, field by field.
    visit.goto(f"/audit/dossiers/{dossier}#entree-2")
    changes = page.locator("#entree-2 table.changes")
    assert changes.locator("th[scope=row]", has_text="contact.titre_projet").count() == 1
    page.eval_on_selector("#entree-2", "el => el.scrollIntoView()")
    shot(visit, "audit-history-before-after")

    # 4. The integrity check passes.
    visit.click_link(page.get_by_role("link", name="Vérifier l’intégrité de ce dossier").first)
    assert "Le dossier est intègre" in page.locator("main").inner_text()
    shot(visit, "audit-integrity-ok")

    # 5. The XES of the search.
    visit.goto(f"/audit/?ref={ref}")
    with page.expect_download() as caught:
        page.get_by_role("link", name="XES").click()
    xes = (tmp_path / "dossiers.xes")
    caught.value.save_as(xes)
    content = xes.read_text(encoding="utf-8")
    assert content.lstrip().startswith("<?xml") and ref in content and "<trace" in content
    visit.logout()

    # An administrator: someone changed a journal row in the database; the integrity page names it.
    with engine.db.sessions() as session, session.begin():
        row = session.scalar(select(JournalEntry).where(JournalEntry.instance_id == dossier, JournalEntry.seq == 3))
        original = row.payload
        session.execute(update(JournalEntry).where(JournalEntry.id == row.id)
                        .values(payload={**original, "data": {**original["data"], "forged": True}}))
    try:
        visit.login("admin")
        visit.goto(f"/audit/integrite?dossier={ref}")
        alert = page.get_by_role("alert")
        assert "Le dossier n’est pas intègre." in alert.inner_text()
        assert "entrée n° 3" in alert.inner_text()
        assert "entry 3" in page.locator("main").inner_text()
        shot(visit, "audit-integrity-tampered")
        visit.goto(f"/audit/dossiers/{dossier}/rejeu?entree=3")  # the replay stops at the altered entry
        assert "entry 3" in page.get_by_role("alert").first.inner_text()
        visit.logout()
    finally:
        with engine.db.sessions() as session, session.begin():
            session.execute(update(JournalEntry).where(JournalEntry.instance_id == dossier, JournalEntry.seq == 3)
                            .values(payload=original))


def test_the_replay_without_javascript(open_visit, dossier):
    """Links and the slider's form move between entries, each a page the server renders."""
    visit = open_visit(javascript=False)
    page = visit.page
    visit.login("auditeur")
    visit.goto(f"/audit/dossiers/{dossier}/rejeu")
    assert "Après l’entrée n° 1 sur" in page.locator("#replay-state").inner_text()
    visit.click_link(page.get_by_role("link", name="Entrée suivante →"))
    assert page.url.endswith("?entree=2")
    assert page.locator('tr.replay-changed[data-field="contact.titre_projet"]').count() == 1
    page.fill("#replay-entry", "4")
    visit.submit(page.get_by_role("button", name="Afficher"))
    assert "entree=4" in page.url and "Après l’entrée n° 4 sur" in page.locator("#replay-state").inner_text()
    assert page.locator("#diagram-canvas").is_hidden()  # no drawing: the text says it all
