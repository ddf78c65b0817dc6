"""Transient database failures: what is worth retrying, and the bounded retry of a whole command.

A command re-reads everything from the database in its own transaction, so running it again
after a rollback is safe. What is transient: a deadlock or a serialization failure (PostgreSQL
rolled the transaction back: the other one goes on), a connection lost or refused (the server
restarted, a backend was terminated), a pool that gave no connection in time. Anything else (a
constraint violated, a bad statement) is a bug or a conflict and is not retried.
"""

from __future__ import annotations

import logging
import random
import time

from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .errors import Unavailable

log = logging.getLogger(__name__)

#: whole attempts of one command on PostgreSQL before it is answered as unavailable
ATTEMPTS = 4
#: SQLSTATEs that roll a transaction back with nothing wrong in it: serialization failure, deadlock
_ROLLED_BACK = {"40001", "40P01"}
#: the database errors the web layer answers as "unavailable" when they reach it outside a command
DATABASE_ERRORS = (DBAPIError, DisconnectionError, PoolTimeout)


def is_transient(err: BaseException) -> bool:
    """True for a failure that says nothing of the command: the same command may well succeed again."""
    if isinstance(err, DisconnectionError | PoolTimeout):
        return True
    if not isinstance(err, DBAPIError):
        return False
    if err.connection_invalidated:
        return True
    sqlstate = getattr(err.orig, "sqlstate", None)
    if sqlstate is not None:
        # 08: connection exception; 57P01-57P03: the server shutting down, or not yet accepting.
        return sqlstate in _ROLLED_BACK or sqlstate.startswith("08") or sqlstate.startswith("57P")
    # psycopg gives no SQLSTATE when the connection itself failed (refused, closed under it);
    # SQLite's OperationalError (a lock held past busy_timeout) has none either.
    dbapi = type(err.orig).__module__.split(".")[0]
    return type(err).__name__ == "OperationalError" and dbapi in ("psycopg", "sqlite3")


def unavailable(err: BaseException) -> Unavailable:
    """The error a person reads for a transient failure (the cause chained by the caller)."""
    return Unavailable(f"The database is unavailable for now ({type(err).__name__}); try again in a few seconds",
                       code="service.unavailable")


def as_unavailable(err: BaseException) -> Unavailable | None:
    """:class:`Unavailable` for a transient database failure that reached a caller, else None."""
    if isinstance(err, Unavailable):
        return err
    if is_transient(err):
        found = unavailable(err)
        found.__cause__ = err
        return found
    return None


def run(attempt, attempts: int, what: str):
    """``attempt()`` until it returns, at most ``attempts`` times while it fails transiently.

    ``attempt`` raises :class:`Retry` (carrying the transient cause) when the failure came before
    its commit; any other transient failure (one during the commit, whose outcome is unknown) is
    not retried: it becomes :class:`Unavailable` at once, rather than risk running a command twice.
    """
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except Retry as retry:
            cause = retry.__cause__
            if number == attempts:
                raise unavailable(cause) from cause
            # A short, random pause: two commands that deadlocked do not meet again in step.
            pause = random.uniform(0.01, 0.05) * 2 ** (number - 1)
            log.warning("%s: transient database failure (%s), attempt %d of %d in %.2f s",
                        what, cause, number + 1, attempts, pause)
            time.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


class Retry(Exception):  # noqa: N818 - a signal between the attempt and run(), never raised out of run()
    """Raised by an attempt, from its transient cause, to be run again."""
