"""Throttling of login guesses, by client and by (client, login), kept in the database.

Failures are rows of ``login_failure`` so that every web worker sharing the database sees the
same counts (an in-memory counter would give each process its own allowance). Two limits:

- :data:`PER_LOGIN` failures for one login from one client within :data:`WINDOW`: that client is
  refused for that login until :data:`WINDOW` after its last failure. The person, from their own
  client, can still log in: an outsider cannot lock anyone out.
- :data:`PER_CLIENT` failures from one client, whatever the logins: the client is refused for
  every login (someone trying many logins, or one login many ways).

Unknown logins are counted exactly like real ones, so the answers never tell which logins exist.
Guesses spread over many clients are only slowed by argon2 and these per-client limits: a limit
per login alone would hand the lockout back to outsiders.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .persistence.models import LoginFailure

WINDOW = timedelta(minutes=15)
PER_LOGIN = 5
PER_CLIENT = 20


def _client(client: str) -> str:
    return (client or "unknown")[:64]


def login_key(login: str) -> str:
    """What is stored of a typed login: a hash (people type passwords into the login field)."""
    return hashlib.sha256(login.strip().lower().encode()).hexdigest()


class LoginThrottle:
    """Counts and checks failed logins inside the caller's transaction (``session``)."""

    def __init__(self, *, window: timedelta = WINDOW, per_login: int = PER_LOGIN, per_client: int = PER_CLIENT):
        self.window = window
        self.per_login = per_login
        self.per_client = per_client

    def refused_until(self, session: Session, client: str, login: str, now: datetime) -> datetime | None:
        """When ``client`` may try ``login`` again, if it is refused now (else None)."""
        client = _client(client)
        since = now - self.window
        recent = LoginFailure.at > since
        count, last = session.execute(
            select(func.count(), func.max(LoginFailure.at)).where(
                LoginFailure.client == client, LoginFailure.login_key == login_key(login), recent
            )
        ).one()
        if count >= self.per_login:
            return last + self.window
        count, last = session.execute(
            select(func.count(), func.max(LoginFailure.at)).where(LoginFailure.client == client, recent)
        ).one()
        if count >= self.per_client:
            return last + self.window
        return None

    def fail(self, session: Session, client: str, login: str, now: datetime) -> datetime | None:
        """Count a failure; returns :meth:`refused_until` after it (the failure that hits a limit)."""
        # Rows older than the window no longer count: drop them here rather than in a cron job.
        session.execute(delete(LoginFailure).where(LoginFailure.at <= now - self.window))
        session.add(LoginFailure(client=_client(client), login_key=login_key(login), at=now))
        session.flush()
        return self.refused_until(session, client, login, now)

    def succeed(self, session: Session, client: str, login: str) -> None:
        """A good password clears that client's failures for that login (not its other ones)."""
        mine = (LoginFailure.client == _client(client), LoginFailure.login_key == login_key(login))
        session.execute(delete(LoginFailure).where(*mine))
