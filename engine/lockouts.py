"""What administrators see of throttled logins, and how they clear them.

:mod:`.throttle` keeps failures by client and by a hash of the login typed, never the login
itself, and never locks an account. An administrator sees the *accounts* whose login had
recent failures (the hashes of existing logins are matched; guesses at logins that do not exist
stay unreadable), how many, from how many clients, and until when the most-tried client is
refused; :meth:`Lockouts.unlock` forgets that login's failures from every client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from .accounts import AccountService
from .persistence.models import LoginFailure, User
from .throttle import login_key


@dataclass(frozen=True)
class Lockout:
    """Recent failed logins of one account: ``refused_until`` is set while a client is refused."""

    login: str
    full_name: str
    failures: int
    clients: int
    last: datetime
    refused_until: datetime | None


class Lockouts:
    """Throttled logins, read and cleared through the accounts' throttle and database."""

    def __init__(self, accounts: AccountService):
        self.accounts = accounts

    def recent(self) -> list[Lockout]:
        """Accounts with failures inside the throttle's window, most failures first."""
        throttle = self.accounts.throttle
        now = self.accounts.clock.now()
        with self.accounts.db.sessions() as session:
            rows = session.execute(
                select(LoginFailure.login_key, LoginFailure.client, func.count(), func.max(LoginFailure.at))
                .where(LoginFailure.at > now - throttle.window)
                .group_by(LoginFailure.login_key, LoginFailure.client)
            ).all()
            if not rows:
                return []
            people = {login_key(login): (login, name)
                      for login, name in session.execute(select(User.login, User.full_name))}
        found: dict[str, list] = {}
        for key, _client, count, last in rows:
            if key in people:
                found.setdefault(key, []).append((count, last))
        lockouts = []
        for key, per_client in found.items():
            refused = [last + throttle.window for count, last in per_client if count >= throttle.per_login]
            lockouts.append(Lockout(
                *people[key], sum(count for count, _ in per_client), len(per_client),
                max(last for _, last in per_client), max(refused) if refused else None,
            ))
        return sorted(lockouts, key=lambda lock: (-lock.failures, lock.login))

    def unlock(self, login: str) -> int:
        """Forget ``login``'s failed logins from every client; returns how many were forgotten."""
        with self.accounts.db.sessions.begin() as session:
            self.accounts.get(login)  # NotFound for a login that has no account
            return session.execute(delete(LoginFailure).where(LoginFailure.login_key == login_key(login))).rowcount
