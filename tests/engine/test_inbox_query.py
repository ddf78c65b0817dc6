"""The inbox query (per-scope counts, index-ordered pages, UNION ALL merge) against a plain reference."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import and_, false, func, insert, or_, select

from engine import Actor, InboxFilter
from engine.inbox import counts, inbox
from engine.persistence.db import Database
from engine.persistence.models import Campaign, Deployment, Instance, OpenTask
from engine.roles import PORTEUR, REGIONAL_ROLES

T0 = datetime(2030, 1, 1, 8, tzinfo=UTC)
ROLES = ["porteur", "technicien_commune", "technicien_epci", "instructeur", "membre_jury_territorial",
         "membre_jury_regional", "president_jury"]
EPCIS = ["CAB", "CAAC", "CAVM", None]
LOGINS = ["alice", "bob", "carol"]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('inbox') / 'inbox.sqlite'}")
    database.upgrade()
    rng = random.Random(3)
    with database.sessions.begin() as session:
        session.add(Campaign(code="C", libelle="C", data={}, is_open=True))
        session.add(Deployment(version=1, content_hash="x", author="t", created_at=T0))
        session.flush()
        session.add(Instance(ref="C-1", deployment_id=1, campaign_code="C", porteur="p", state="",
                             serializer_version="1", claims={}, version=1, created_at=T0, updated_at=T0))
        session.flush()
        rows = []
        for n in range(600):
            due = None if rng.random() < 0.3 else T0 + timedelta(days=rng.choice([1, 2, 3, 5, 8]))
            rows.append(dict(
                instance_id=1, task_ref=f"t{n}", bpmn_id=rng.choice(["a", "b", "c"]), name="x",
                role=rng.choice(ROLES), epci=rng.choice(EPCIS), campaign_code="C",
                assignee=rng.choice([None, None, None, *LOGINS]), claimed_by=rng.choice([None, None, *LOGINS]),
                due_at=due, created_at=T0, dossier_ref="C-1", title=None,
            ))
        session.execute(insert(OpenTask), rows)
    yield database
    database.dispose()


def reference(session, actor: Actor, flt: InboxFilter) -> tuple[list[int], int]:
    """The inbox as first written: one OR condition, sorted as a whole."""
    staff = [r for r in actor.roles if r != PORTEUR]
    by_role = []
    if regional := [r for r in staff if r in REGIONAL_ROLES]:
        by_role.append(OpenTask.role.in_(regional))
    if (local := [r for r in staff if r not in REGIONAL_ROLES]) and actor.epci:
        by_role.append(and_(OpenTask.role.in_(local), OpenTask.epci.in_(sorted(actor.epci))))
    query = select(OpenTask).where(
        or_(*by_role) if by_role else false(),
        or_(OpenTask.assignee.is_(None), OpenTask.assignee == actor.login),
        or_(OpenTask.claimed_by.is_(None), OpenTask.claimed_by == actor.login),
    )
    if flt.mine_only:
        query = query.where(or_(OpenTask.claimed_by == actor.login, OpenTask.assignee == actor.login))
    if flt.step:
        query = query.where(OpenTask.bpmn_id == flt.step)
    if flt.epci:
        query = query.where(OpenTask.epci == flt.epci)
    if flt.due_before:
        query = query.where(OpenTask.due_at <= flt.due_before)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    ids = session.scalars(
        query.order_by(OpenTask.due_at.is_(None), OpenTask.due_at, OpenTask.id)
        .limit(flt.per_page).offset((flt.page - 1) * flt.per_page)
    ).all()
    return [row.id for row in ids], total


ACTORS = [
    Actor("alice", frozenset({"instructeur"})),
    Actor("bob", frozenset({"technicien_epci"}), frozenset({"CAB"})),
    Actor("bob", frozenset({"technicien_epci", "technicien_commune"}), frozenset({"CAB", "CAVM"})),
    Actor("carol", frozenset({"membre_jury_regional", "membre_jury_territorial", "president_jury"}),
          frozenset({"CAB"})),
    Actor("alice", frozenset({"technicien_commune"})),  # a local role without EPCI sees nothing
    Actor("p", frozenset({PORTEUR})),
]
FILTERS = [
    InboxFilter(per_page=7),
    InboxFilter(per_page=7, page=3),
    InboxFilter(per_page=5, mine_only=True),
    InboxFilter(per_page=10, step="b"),
    InboxFilter(per_page=10, epci="CAB"),
    InboxFilter(per_page=10, due_before=T0 + timedelta(days=3)),
    InboxFilter(per_page=10, page=500),
]


@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: "+".join(sorted(a.roles)))
@pytest.mark.parametrize("flt", FILTERS)
def test_inbox_matches_the_reference_query(db, actor, flt):
    with db.sessions() as session:
        rows, total = inbox(session, actor, flt)
        assert ([row.id for row in rows], total) == reference(session, actor, flt)


@pytest.mark.parametrize("actor", ACTORS, ids=lambda a: "+".join(sorted(a.roles)))
def test_counts_match_the_inbox(db, actor):
    with db.sessions() as session:
        mine, everything = counts(session, actor)
        assert mine == inbox(session, actor, InboxFilter(mine_only=True))[1]
        assert everything == inbox(session, actor, InboxFilter())[1]


def test_inbox_pages_are_read_in_index_order(db):
    """No inbox statement sorts its rows in a temporary B-tree: the indexes give the order."""
    from sqlalchemy import event

    statements = []

    def capture(conn, cursor, statement, params, context, executemany):
        statements.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.sessions() as session:
            for actor in ACTORS[:4]:
                inbox(session, actor, InboxFilter())
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert statements
    raw = db.engine.raw_connection()
    try:
        for statement, params in statements:
            plan = [row[-1] for row in raw.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()]
            assert not any("TEMP B-TREE" in line for line in plan), (statement, plan)
    finally:
        raw.close()
