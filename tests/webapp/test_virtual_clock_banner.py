"""Every page's footer warns when the virtual clock (DSDT_CLOCK_OFFSET) is on, and only then."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import OffsetClock


def test_the_footer_shows_the_virtual_clock_when_it_is_on(make_app, engine, monkeypatch):
    monkeypatch.setattr(engine, "clock", OffsetClock(timedelta(days=30), "+30d"))
    page = make_app().test_client().get("/connexion").get_data(as_text=True)
    assert 'class="virtual-clock" role="status"' in page and "DSDT_CLOCK_OFFSET +30d" in page


def test_no_banner_on_the_real_clock(client):
    assert "virtual-clock" not in client.get("/connexion").get_data(as_text=True)
