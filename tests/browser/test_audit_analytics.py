"""An auditor reads the process analytics in the browser: the tables, the SVG charts, and the
diagram coloured by waiting time (heatmap.js), each step carrying its value; axe-core audits the
page with the diagram drawn (tests/browser/conftest.py). The screenshot goes to test-artifacts/.
"""

from __future__ import annotations


def test_auditor_reads_the_analytics_with_the_heatmap(visit, live_services):
    page = visit.page
    with visit.as_user("auditeur"):
        visit.goto("/audit/")
        visit.click_link(page.get_by_role("link", name="Analyse du processus"))
        assert page.locator("h1").inner_text() == "Analyse du processus"
        assert page.locator("#table-etapes tbody tr").count() >= 1
        # The charts are images the browser decodes (valid SVG documents).
        for img in page.locator("figure.chart img").all():
            img.scroll_into_view_if_needed()
            assert page.evaluate("(el) => el.complete && el.naturalWidth > 0", img.element_handle())
        canvas = page.locator(".heatmap .diagram-canvas")
        canvas.locator(".djs-element[class*='heat-']").first.wait_for(state="attached", timeout=15_000)
        badges = page.locator(".heatmap .heat-value")
        assert badges.count() >= 1 and badges.first.inner_text().strip()
        assert page.locator(".heat-legend").is_visible()
        drawing = canvas.locator("svg[role=img]").first
        assert drawing.get_attribute("aria-label") and drawing.get_attribute("aria-describedby") == "heatmap-text"
        # Another process of the list: the main process's phases are coloured too.
        options = page.locator("#heatmap-select option")
        assert options.count() >= 2
        visit.audit()
        visit.screenshot("audit-analytics")
    visit.assert_clean()
