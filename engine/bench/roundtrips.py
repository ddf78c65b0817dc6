"""Statements sent to PostgreSQL per command: what a command costs in round trips.

The engine's hot statements run on the driver's cursor (:mod:`engine.persistence.raw`), so a
SQLAlchemy ``before_cursor_execute`` listener does not see them. :class:`RoundTrips` counts at
the driver instead: every psycopg cursor of the engine's connections is a counting cursor
(``execute``: one round trip; ``executemany``: one, as psycopg 3 sends the rows in pipeline mode
with a single sync; the statements of one pipeline, :mod:`engine.persistence.raw`'s queued writes
and the statement after them: one), and the transaction's ``BEGIN`` (psycopg sends it before the first statement)
and ``COMMIT``/``ROLLBACK`` are counted from the connection's state. The pool's pre-ping, a
statement, is counted too.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine

_PREFIX = 60


class RoundTrips:
    """Counts the round trips of ``engine``'s psycopg connections (``installed`` on the engine)."""

    def __init__(self, engine: Engine, keep_sql: bool = False):
        import psycopg

        self.total = 0
        self._pipeline = None
        self.keep_sql = keep_sql
        self.sql: list[str] = []
        self._idle = psycopg.pq.TransactionStatus.IDLE
        self._intrans = psycopg.pq.TransactionStatus.INTRANS
        counter = self

        class CountingCursor(psycopg.Cursor):
            def execute(self, query, params=None, **kwargs):
                counter._statement(self.connection, query)
                return super().execute(query, params, **kwargs)

            def executemany(self, query, params_seq, **kwargs):
                counter._statement(self.connection, query)
                return super().executemany(query, params_seq, **kwargs)

        self._cursor = CountingCursor
        self.engine = engine
        event.listen(engine, "engine_connect", self._install)
        event.listen(engine, "commit", self._ending)
        event.listen(engine, "rollback", self._ending)

    def _install(self, connection) -> None:
        driver = connection.connection.driver_connection
        if driver.cursor_factory is not self._cursor:
            driver.cursor_factory = self._cursor

    def _statement(self, driver, query) -> None:
        pipeline = getattr(driver, "_pipeline", None)
        if pipeline is not None:
            # a pipeline (engine.persistence.raw's queued writes) is sent as a whole and
            # answered at its end: one round trip, its BEGIN included
            if pipeline is not self._pipeline:
                self._pipeline = pipeline
                self.total += 1
                if self.keep_sql:
                    self.sql.append("PIPELINE:")
        else:
            self._pipeline = None
            if not driver.autocommit and driver.info.transaction_status == self._idle:
                self.total += 1  # the BEGIN psycopg sends first
                if self.keep_sql:
                    self.sql.append("BEGIN")
            self.total += 1
        if self.keep_sql:
            text = query if isinstance(query, str) else getattr(query, "as_string", lambda _c: str(query))(driver)
            self.sql.append(" ".join(text.split())[:_PREFIX])

    def _ending(self, connection) -> None:
        driver = connection.connection.driver_connection
        if driver.info.transaction_status == self._intrans:
            self.total += 1
            if self.keep_sql:
                self.sql.append("COMMIT/ROLLBACK")

    @contextmanager
    def counting(self):
        """``with counter.counting() as seen:`` then ``seen()``: the round trips of the block."""
        before = self.total
        del self.sql[:]
        yield lambda: self.total - before

    def remove(self) -> None:
        event.remove(self.engine, "engine_connect", self._install)
        event.remove(self.engine, "commit", self._ending)
        event.remove(self.engine, "rollback", self._ending)


def per_command(url: str, dossiers: int = 2, prepare=None, keep_sql: bool = False) -> dict:
    """Round trips of each command type along ``dossiers`` happy-path dossiers on PostgreSQL:
    ``start``, ``complete`` warm (the dossier in the engine's cache) and cold (dropped first)."""
    from .. import campaigns_api
    from ..simulation import campaign_people, create_accounts
    from ..simulation.people import porteur_login
    from .loads import ROOT
    from .stores import START, build
    from .walk import porteur_actor, walk

    code, libelle, data = campaigns_api.historical_campaign()
    engine = build(url, "FULL", prepare)
    counter = RoundTrips(engine.db.engine, keep_sql=keep_sql)
    seen: dict[str, list[int]] = {"start": [], "complete_warm": [], "complete_cold": [], "task_views": []}
    statements: dict[str, Counter] = {}
    try:
        with engine.db.engine.begin() as connection:
            create_accounts(connection, campaign_people(data, dossiers), START)
        engine.deploy_directory(ROOT, author="bench")
        engine.save_campaign(code, libelle, data)
        forms = engine.current_forms()
        keys = []
        for n in range(1, dossiers + 1):
            with counter.counting() as count:
                keys.append(engine.start(porteur_actor(porteur_login(n)), code))
            seen["start"].append(count())
            statements.setdefault("start", Counter(counter.sql))
        rng = random.Random(1)
        for n, key in enumerate(keys, start=1):
            for step in walk(engine, key, porteur_login(n), forms, seed=n):
                kind = "complete_cold" if rng.random() < 0.5 else "complete_warm"
                if kind == "complete_cold":
                    with engine._cache_lock:
                        engine._cache.pop(step.instance_id, None)
                with counter.counting() as count:
                    engine.complete(step.actor, step.instance_id, step.task_ref, step.data)
                seen[kind].append(count())
                statements.setdefault(kind, Counter(counter.sql))
                with counter.counting() as count:
                    engine.task_views(step.instance_id)
                seen["task_views"].append(count())
        result = {kind: {"median": statistics.median(values), "min": min(values), "max": max(values),
                         "count": len(values)} for kind, values in seen.items() if values}
        if keep_sql:
            result["first_statements"] = {kind: dict(found) for kind, found in statements.items()}
        return result
    finally:
        counter.remove()
        engine.close()
