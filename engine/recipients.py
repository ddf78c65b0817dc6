"""Who is told of a task that opens: its assignee, or everyone holding its role in its scope.

Read with at most two indexed statements per command, whatever the number of accounts: the
assignees by login (the unique index of ``app_user``), the others by ``(role, epci)`` in
``user_role`` (its primary key; the roles and scope of each account as rows, written by
:mod:`engine.accounts`). The rows read are the recipients, no more: before, every command read
every active account with an address and filtered their JSON lists in Python, so a command
with 10,000 porteur accounts cost 50 times one with none.

Why rows by role and scope, and not one outbox row per event expanded by the sending pass: the
e-mails would appear only after a pass (the outbox page, which shows who was told, would lag
behind the commands), and a change of roles between the command and the pass would change who
is told. Here who is told is decided, and committed, with the command that opened the task.

The statements are hand-written (:mod:`engine.persistence.raw`): they run on every command
that opens a task, and SQLAlchemy Core's construction and execution cost ten times the query.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Connection

from .persistence.models import User, UserRole
from .persistence.raw import RawStatement
from .roles import REGIONAL_ROLES

_USER = User.__table__
_ROLE = UserRole.__table__


class Recipient(NamedTuple):
    login: str
    full_name: str
    email: str
    daily_digest: bool = False  # they chose one summary a day (engine.digests): no mail per task


@lru_cache(maxsize=16)
def _by_login(count: int) -> RawStatement:
    names = [f"login{n}" for n in range(count)]
    return RawStatement(
        "SELECT login, full_name, email, daily_digest FROM app_user "
        f"WHERE login IN ({', '.join(':' + n for n in names)}) "
        "AND active = :active AND email <> ''",
        {"active": _USER.c.active, **{name: _USER.c.login for name in names}},
    )


@lru_cache(maxsize=16)
def _by_role(count: int) -> RawStatement:
    pairs = " OR ".join(f"(r.role = :role{n} AND r.epci = :epci{n})" for n in range(count))
    binds = {"active": _USER.c.active}
    for n in range(count):
        binds[f"role{n}"], binds[f"epci{n}"] = _ROLE.c.role, _ROLE.c.epci
    return RawStatement(
        "SELECT r.role, r.epci, u.login, u.full_name, u.email, u.daily_digest "
        "FROM user_role r JOIN app_user u ON u.id = r.user_id "
        f"WHERE ({pairs}) AND u.active = :active AND u.email <> '' ORDER BY u.id",
        binds,
    )


def _key(task, epci: str | None) -> str | tuple[str, str] | None:
    """The assignee's login, or the (role, epci) whose holders may do the task; None: nobody yet."""
    if task.assignee is not None:
        return task.assignee
    if task.role in REGIONAL_ROLES:
        return (task.role, "")  # the row every holder of the role has, whatever their scope
    return (task.role, epci) if epci else None


def for_tasks(connection: Connection, epci: str | None, tasks: list) -> list[list[Recipient]]:
    """For each task, the active people with an address who may do it, in account order.

    Its assignee when it has one; else everyone holding its role, within the dossier's EPCI
    ``epci`` for a local role (nobody while the dossier has no EPCI).
    """
    keys = [_key(task, epci) for task in tasks]
    found: dict = {}
    logins = sorted({key for key in keys if isinstance(key, str)})
    if logins:
        values = {"active": True, **{f"login{n}": login for n, login in enumerate(logins)}}
        for row in _by_login(len(logins)).all(connection, values):
            found[row[0]] = [Recipient(*row)]
    pairs = sorted({key for key in keys if isinstance(key, tuple)})
    if pairs:
        values = {"active": True}
        for n, (role, code) in enumerate(pairs):
            values[f"role{n}"], values[f"epci{n}"] = role, code
        for role, code, *person in _by_role(len(pairs)).all(connection, values):
            found.setdefault((role, code), []).append(Recipient(*person))
    return [found.get(key, []) if key is not None else [] for key in keys]
