"""PostgreSQL round trips: writes nobody reads are queued and sent with the next statement that
needs an answer (engine.persistence.raw), and a command's round trips are counted and bounded.

Runs where PostgreSQL is available (CI)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, text
from sqlalchemy.exc import IntegrityError

from engine import Database, EngineConfig, Invalid
from engine.bench import roundtrips, stores
from engine.config import PoolSettings
from engine.persistence.raw import RawStatement
from tests.conftest import POSTGRES_URL

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (DSDT_TEST_POSTGRES_URL)")

_PROBE = Table("rt_probe", MetaData(), Column("id", Integer, primary_key=True), Column("label", String))
_INSERT = RawStatement("INSERT INTO rt_probe (id, label) VALUES (:id, :label)",
                       {"id": _PROBE.c.id, "label": _PROBE.c.label})
_COUNT = RawStatement("SELECT count(*) FROM rt_probe")
_RELABEL = RawStatement("UPDATE rt_probe SET label = :label WHERE id = :id",
                        {"id": _PROBE.c.id, "label": _PROBE.c.label})


@pytest.fixture
def db(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    database = Database(database_url)
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE rt_probe (id integer PRIMARY KEY, label text)"))
    yield database
    database.dispose()


def _stored(db) -> int:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM rt_probe")).scalar_one()


@needs_postgres
def test_queued_writes_go_with_the_next_read_in_one_round_trip(db):
    counter = roundtrips.RoundTrips(db.engine)
    with db.engine.connect():
        pass  # the pool holds a connection now: the next checkout pings it, as in a running app
    with counter.counting() as seen, db.engine.begin() as connection:
        assert _COUNT.first(connection, {}) == (0,)  # BEGIN and the read: one pipeline
        _INSERT.defer(connection, {"id": 1, "label": "a"})
        _INSERT.execute_many(connection, [{"id": 2, "label": "b"}, {"id": 3, "label": "c"}])
        assert _COUNT.first(connection, {}) == (3,)  # the read sees the queued writes
        assert _RELABEL.execute(connection, {"id": 2, "label": "z"}) == 1
    # ping, [BEGIN + read], [2 writes + read], [update], COMMIT
    assert seen() == 5
    assert _stored(db) == 3


@needs_postgres
def test_a_queued_write_is_sent_before_a_sqlalchemy_statement_and_at_commit(db):
    with db.engine.begin() as connection:
        _INSERT.defer(connection, {"id": 1, "label": "a"})
        assert connection.execute(text("SELECT label FROM rt_probe WHERE id = 1")).scalar_one() == "a"
        _INSERT.defer(connection, {"id": 2, "label": "b"})  # only the commit sends this one
    assert _stored(db) == 2


@needs_postgres
def test_a_rollback_drops_the_queued_writes(db):
    with pytest.raises(RuntimeError), db.engine.begin() as connection:
        _INSERT.defer(connection, {"id": 1, "label": "a"})
        raise RuntimeError("the command failed")
    # the same pooled connection starts clean: nothing queued is sent with the next transaction
    with db.engine.begin() as connection:
        assert _COUNT.first(connection, {}) == (0,)
    assert _stored(db) == 0


@needs_postgres
def test_a_failing_queued_write_raises_as_sqlalchemy_integrity_error_and_stores_nothing(db):
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        _INSERT.defer(connection, {"id": 1, "label": "a"})
        _INSERT.defer(connection, {"id": 1, "label": "again"})
        _COUNT.first(connection, {})
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        _INSERT.defer(connection, {"id": 1, "label": "a"})
        _INSERT.defer(connection, {"id": 1, "label": "again"})  # raised at the commit
    assert _stored(db) == 0
    with db.engine.begin() as connection:  # the connection is usable afterwards
        _INSERT.defer(connection, {"id": 5, "label": "e"})
    assert _stored(db) == 1


@needs_postgres
def test_a_completion_costs_a_bounded_number_of_round_trips(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    measured = roundtrips.per_command(database_url, dossiers=1, prepare=stores.app_notifier)
    # Before the queue: 10 to 17 for a warm completion, 14 to 21 for a cold one, 36 for a start;
    # with it 6 to 9 and 10 to 13 (a step with attachments reads them).
    assert measured["complete_warm"]["max"] <= 9
    assert measured["complete_cold"]["max"] <= 14
    assert measured["start"]["max"] <= 22
    assert measured["task_views"]["max"] <= 3


def test_the_prepare_threshold_is_a_setting():
    assert EngineConfig.from_env({}).pool.prepare_threshold == 5  # psycopg's own default
    assert EngineConfig.from_env({"DSDT_DB_PREPARE_THRESHOLD": "0"}).pool.prepare_threshold == 0
    assert EngineConfig.from_env({"DSDT_DB_PREPARE_THRESHOLD": " None "}).pool.prepare_threshold is None
    for bad in ("often", "-1", ""):
        with pytest.raises(Invalid) as refused:
            EngineConfig.from_env({"DSDT_DB_PREPARE_THRESHOLD": bad})
        assert refused.value.code == "config.db_prepare_threshold"


@needs_postgres
def test_postgresql_connections_get_the_prepare_threshold(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    for threshold in (None, 0):
        database = Database(database_url, pool=PoolSettings(prepare_threshold=threshold))
        try:
            with database.engine.connect() as connection:
                assert connection.connection.driver_connection.prepare_threshold == threshold
        finally:
            database.dispose()
