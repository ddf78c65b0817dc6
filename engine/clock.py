"""The engine's single source of time.

Every command reads "now" once from the injected clock and runs with that instant set in
:data:`command_time`, so that SpiffWorkflow's timers (see :mod:`engine.bpmn.timers`) and replay
see exactly the time the command was journaled with.
"""

from __future__ import annotations

import contextlib
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
