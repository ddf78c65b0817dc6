"""The e-mail outbox as its page reads it: one page of messages, each with its state, and counts.

A message is in one of four states, read from its columns:

- ``queued``: not tried yet (no SMTP server configured, or the sender has not passed yet);
- ``failed``: refused or failed at least once, tried again after a back-off (``last_error``);
- ``set_aside``: refused for good (a 5xx answer, a line break in a header, too many attempts);
- ``sent``: handed to the mail server.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from .errors import Invalid
from .notifications_store import EmailRow
from .persistence.models import OutboxEmail

STATES = ("queued", "failed", "set_aside", "sent")
#: the largest page the outbox page asks for (a page is read in one query)
MAX_PER_PAGE = 500

_CONDITIONS = {  # in the order of STATES: the page lists the states so
    "queued": and_(OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None), OutboxEmail.attempts == 0),
    "failed": and_(OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None), OutboxEmail.attempts > 0),
    "set_aside": and_(OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_not(None)),
    "sent": OutboxEmail.sent_at.is_not(None),
}


def state_of(row: EmailRow) -> str:
    """The state of one message (see the module's docstring)."""
    if row.sent_at is not None:
        return "sent"
    if row.failed_at is not None:
        return "set_aside"
    return "failed" if row.attempts else "queued"


@dataclass(frozen=True)
class OutboxPage:
    """One page of the outbox, newest first, with its state's count and every state's count."""

    rows: list[EmailRow]
    states: list[str]  # the state of each row, in order
    page: int  # the page shown: the one asked for, brought within 1..pages
    pages: int
    total: int  # messages in the state asked for (all of them without one)
    counts: dict[str, int]  # messages in each state, in the order of STATES


class Outbox:
    """Paged reads of the outbox (its sending lives in :class:`~engine.NotificationCenter`)."""

    def __init__(self, db):
        self.db = db

    def page(self, page: int = 1, per_page: int = 50, state: str | None = None) -> OutboxPage:
        """The messages of ``page`` (from 1; beyond the last, the last), in ``state`` if given."""
        if state is not None and state not in STATES:
            raise Invalid(f"Unknown outbox state {state!r:.40}: use one of {', '.join(STATES)}.",
                          code="outbox.state", params={"state": str(state)[:40]})
        per_page = min(max(per_page, 1), MAX_PER_PAGE)
        counted = select(*(func.count(case((condition, 1))).label(name) for name, condition in _CONDITIONS.items()))
        with self.db.sessions() as session:
            counts = dict(session.execute(counted.select_from(OutboxEmail)).one()._mapping)
            total = counts[state] if state else sum(counts.values())
            pages = max((total + per_page - 1) // per_page, 1)
            page = min(max(page, 1), pages)
            query = select(OutboxEmail).order_by(OutboxEmail.id.desc())
            if state:
                query = query.where(_CONDITIONS[state])
            found = session.scalars(query.offset((page - 1) * per_page).limit(per_page))
            rows = [EmailRow(r.id, r.recipient, r.subject, r.body, r.created_at, r.sent_at, r.attempts, r.last_error,
                             r.failed_at, r.next_attempt_at) for r in found]
        return OutboxPage(rows, [state_of(row) for row in rows], page, pages, total, counts)
