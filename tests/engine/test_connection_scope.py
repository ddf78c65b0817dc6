"""The connection scope: one pool checkout for a unit of work (a web request), a connection never
lent to two users at once, and a connection lost inside the scope replaced (PostgreSQL)."""

from __future__ import annotations

import contextlib

from sqlalchemy import event

from engine import connection_scope

from .test_production import _verified, named_url, postgres_only, postgres_url, started  # noqa: F401, F811  (fixtures)


@contextlib.contextmanager
def counting(engine):
    pool = engine.db.engine.pool
    checkouts: list[int] = []

    def checked_out(*_args):
        checkouts.append(1)

    event.listen(pool, "checkout", checked_out)
    try:
        yield checkouts
    finally:
        event.remove(pool, "checkout", checked_out)


def test_reads_and_a_command_in_a_scope_take_one_connection_and_give_it_back(engine, walker):
    iid = walker.start()
    with counting(engine) as checkouts, connection_scope():
        assert engine.instance(iid).epci is None
        walker.do(iid, "contact", epci="CAB")
        assert engine.instance(iid).epci == "CAB"
        assert engine.db.engine.pool.checkedout() == 1
    assert len(checkouts) == 1
    assert engine.db.engine.pool.checkedout() == 0  # checked in when the scope ends
    _verified(engine)


def test_outside_a_scope_each_use_is_a_checkout(engine):
    with counting(engine) as checkouts:
        for _ in range(3):
            with engine.db.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
    assert len(checkouts) == 3


def test_a_connection_in_use_is_not_lent_to_a_second_user(engine):
    with counting(engine) as checkouts, connection_scope():
        with engine.db.engine.connect() as first, engine.db.engine.connect() as second:
            assert first.connection.dbapi_connection is not second.connection.dbapi_connection
            kept = first.connection.dbapi_connection
        with engine.db.engine.begin() as third:  # free again: the scope's connection, its own transaction
            assert third.connection.dbapi_connection is kept
    assert len(checkouts) == 2
    assert engine.db.engine.pool.checkedout() == 0


def test_scopes_nest_and_an_unused_scope_checks_out_nothing(engine):
    with counting(engine) as checkouts, connection_scope():
        with connection_scope():
            engine.db.engine.connect().close()
        engine.db.engine.connect().close()
        assert engine.db.engine.pool.checkedout() == 1  # the inner scope did not release it
    with counting(engine) as nothing, connection_scope():
        pass
    assert len(checkouts) == 1 and nothing == []


@postgres_only
def test_a_connection_lost_inside_a_scope_is_replaced(started):  # noqa: F811
    engine, walker, iid, drop = started
    with counting(engine) as checkouts, connection_scope():
        view = walker.view(iid, "contact")  # the scope's connection, pinged at checkout
        assert drop() >= 1  # the server goes away while the scope keeps it
        # the command's first attempt fails on it; its retry gets a new connection
        engine.complete(walker.porteur, iid, view.ref, walker.form(view, epci="CAB"))
        assert engine.instance(iid).epci == "CAB"
    assert len(checkouts) == 2
    assert engine.db.engine.pool.checkedout() == 0
    _verified(engine)


@postgres_only
def test_a_connection_lost_while_idle_is_replaced_at_the_scopes_first_use(started):  # noqa: F811
    engine, walker, iid, drop = started
    assert drop() >= 1
    with connection_scope():
        walker.do(iid, "contact", epci="CAB")  # pre_ping at the scope's checkout
        assert engine.instance(iid).epci == "CAB"
    _verified(engine)
