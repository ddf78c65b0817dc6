"""The engine's single source of time.

Every command reads "now" once from the injected clock and runs with that instant set in
:data:`command_time`, so that SpiffWorkflow's timers (see :mod:`engine.bpmn.timers`) and replay
see exactly the time the command was journaled with.
"""

from __future__ import annotations

import contextlib
import re
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Protocol

_command_time: ContextVar[datetime | None] = ContextVar("dsdt_command_time", default=None)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: tests and simulations run months in seconds."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now


class OffsetClock:
    """Wall-clock time moved by a fixed offset (``DSDT_CLOCK_OFFSET``): a demo or a test runs the
    web app and the worker "30 days later" to see deadlines pass without waiting. Never in
    production (:class:`engine.config.EngineConfig` refuses it there)."""

    def __init__(self, offset: timedelta, label: str | None = None, base: Clock | None = None):
        self.offset = offset
        #: the offset as it was written (``+30d``), for the page banner
        self.label = label or str(offset)
        self._base = base or SystemClock()

    def now(self) -> datetime:
        return self._base.now() + self.offset


_OFFSET_PART = re.compile(r"(\d{1,7})([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
#: the largest offset accepted, either way
MAX_OFFSET = timedelta(days=3650)


def parse_offset(text: str) -> timedelta:
    """``+30d``, ``-2h``, ``+1d12h``, ``90m``... as a timedelta; ValueError on anything else, or
    beyond :data:`MAX_OFFSET`."""
    value = text.strip().lower()
    sign, body = (-1, value[1:]) if value.startswith("-") else (1, value.removeprefix("+"))
    parts = _OFFSET_PART.findall(body)
    if not body or "".join(number + unit for number, unit in parts) != body:
        raise ValueError(f"not a clock offset: {text!r:.40}")
    offset = sign * sum((timedelta(**{_UNITS[unit]: int(number)}) for number, unit in parts), timedelta())
    if abs(offset) > MAX_OFFSET:
        raise ValueError(f"clock offset beyond {MAX_OFFSET.days} days: {text!r:.40}")
    return offset


def command_time() -> datetime:
    """The instant of the command being applied (wall clock outside any command)."""
    when = _command_time.get()
    return when if when is not None else datetime.now(UTC)


@contextlib.contextmanager
def at(when: datetime):
    """Run a block as if it were ``when``: used by commands and by replay."""
    token = _command_time.set(when)
    try:
        yield when
    finally:
        _command_time.reset(token)
