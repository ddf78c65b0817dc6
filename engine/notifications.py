"""Who hears about new tasks: the engine calls a :class:`Notifier` inside the command's transaction.

The engine only says *which* tasks opened; an implementation decides who is told and how (in-app
notification rows, e-mail outbox, SMTP). :class:`NullNotifier` serves tests and the simulator.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection


class Notifier(Protocol):
    def tasks_opened(self, connection: Connection, instance, tasks: list, now: datetime) -> None:
        """Record notifications for ``tasks`` (``engine.runtime.HumanTask``) that just opened on ``instance``.

        Runs inside the command's transaction: write rows with ``connection`` (a Core connection),
        never commit, never send anything that cannot be rolled back (queue e-mails in an outbox
        instead).
        """


class NullNotifier:
    """Tells no one."""

    def tasks_opened(self, connection: Connection, instance, tasks: list, now: datetime) -> None:
        return None
