"""The people of a simulated campaign, as accounts: so the notifier does the web app's real work.

A simulation without accounts would notify nobody: no recipient lookups, no e-mails queued, a
cheaper command than the web app's. Every login the simulation acts as gets an account with an
address, its roles and its EPCI scope: the porteurs, one technicien per local role and EPCI, one
person per regional role, the jury members seated in the database (``engine.juries``).

Accounts are written in bulk, with the ``user_role`` rows :func:`engine.accounts.role_rows`
gives (as :class:`~engine.accounts.AccountService` writes them), and no usable password: one
argon2 hash costs most of a second on a loaded machine, and nobody logs into a simulation.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import insert, select

from .. import juries
from ..accounts import role_rows
from ..persistence.models import User, UserRole
from ..roles import (
    INSTRUCTEUR,
    JURY_REGIONAL,
    JURY_TERRITORIAL,
    PORTEUR,
    PRESIDENT_JURY,
    SERVICE_CONVENTIONS,
    TECHNICIEN_COMMUNE,
    TECHNICIEN_EPCI,
)

#: not an argon2 hash: every password is refused for these accounts
NO_PASSWORD = "!simulation: no password"
_LOCAL = (TECHNICIEN_COMMUNE, TECHNICIEN_EPCI, JURY_TERRITORIAL)
_REGIONAL = (INSTRUCTEUR, SERVICE_CONVENTIONS, JURY_REGIONAL, PRESIDENT_JURY)


def porteur_login(number: int) -> str:
    """The login of the ``number``-th porteur to arrive (from 1)."""
    return f"porteur{number:05d}"


def campaign_people(campaign: dict, porteurs: int) -> dict[str, tuple[set[str], set[str]]]:
    """login → (roles, EPCI scope) of everyone the simulation acts as on ``campaign``'s data."""
    people: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))

    def give(login: str, role: str, epci: str | None = None) -> None:
        roles, scope = people[login]
        roles.add(role)
        if epci:
            scope.add(epci)

    for number in range(1, porteurs + 1):
        give(porteur_login(number), PORTEUR)
    for epci in campaign.get("epci", {}):
        for role in _LOCAL:
            give(f"{role}.{epci}", role, epci)
    for role in _REGIONAL:
        give(f"{role}.region", role)
    return dict(people)


def create_accounts(connection, people: dict[str, tuple[set[str], set[str]]], now: datetime,
                    domain: str = "simulation.dsdt.example") -> int:
    """Write ``people`` and the jury members seated in the database (:func:`engine.juries.people`)
    as active accounts with an address (``login@domain``); returns how many."""
    people = {**{login: (held, scope) for login, (held, scope, _name) in juries.people(connection).items()},
              **people}
    if not people:
        return 0
    connection.execute(insert(User), [
        {"login": login, "full_name": "", "email": f"{login}@{domain}", "password_hash": NO_PASSWORD,
         "roles": sorted(roles), "epci": sorted(scope), "active": True, "failed_logins": 0, "created_at": now}
        for login, (roles, scope) in people.items()
    ])
    ids = dict(connection.execute(select(User.login, User.id).where(User.password_hash == NO_PASSWORD)).all())
    rows = [row for login, (roles, scope) in people.items() for row in role_rows(ids[login], roles, scope)]
    if rows:
        connection.execute(insert(UserRole), rows)
    return len(people)
