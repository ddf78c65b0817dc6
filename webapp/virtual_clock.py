"""The banner of the virtual clock (``DSDT_CLOCK_OFFSET``, tests and demos only): every page
says, in its footer, that the application runs at another time than the real one."""

from __future__ import annotations

from engine import OffsetClock


def register(app) -> None:
    @app.context_processor
    def virtual_clock():
        clock = app.extensions["dsdt"].engine.clock
        if isinstance(clock, OffsetClock):
            return {"virtual_clock": {"now": clock.now(), "offset": clock.label}}
        return {"virtual_clock": None}
