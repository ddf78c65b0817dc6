"""``user_role``: accounts' roles and EPCI scope as indexed rows, kept in step with the accounts."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import JSON, column, event, select, table

from engine import AccountService, Database
from engine.persistence.models import User, UserRole


def _rows(db, login: str) -> list[tuple[str, str]]:
    with db.engine.connect() as connection:
        return sorted(connection.execute(
            select(UserRole.role, UserRole.epci).join(User, User.id == UserRole.user_id).where(User.login == login)
        ).all())


def test_roles_and_scope_are_rewritten_whenever_an_account_changes(bare_engine, clock):
    accounts = AccountService(bare_engine.db, clock)
    accounts.create("tech", "motdepasse-long", roles=["technicien_epci", "technicien_commune"], epci=["CAB"])
    assert _rows(bare_engine.db, "tech") == [("technicien_commune", ""), ("technicien_commune", "CAB"),
                                             ("technicien_epci", ""), ("technicien_epci", "CAB")]
    accounts.update("tech", epci=["CAVM", "CAAC"])
    assert _rows(bare_engine.db, "tech") == [("technicien_commune", ""), ("technicien_commune", "CAAC"),
                                             ("technicien_commune", "CAVM"), ("technicien_epci", ""),
                                             ("technicien_epci", "CAAC"), ("technicien_epci", "CAVM")]
    accounts.update("tech", roles=["instructeur"])
    assert _rows(bare_engine.db, "tech") == [("instructeur", ""), ("instructeur", "CAAC"), ("instructeur", "CAVM")]
    accounts.update("tech", full_name="Technicienne", active=False)  # neither roles nor scope: rows kept
    assert len(_rows(bare_engine.db, "tech")) == 3
    accounts.update("tech", roles=[])
    assert _rows(bare_engine.db, "tech") == []


def test_with_role_is_one_query_through_user_role(bare_engine, clock):
    accounts = AccountService(bare_engine.db, clock)
    accounts.create("zoe", "motdepasse-long", roles=["instructeur"])
    accounts.create("anne", "motdepasse-long", roles=["technicien_epci", "instructeur"], epci=["CAB"])
    accounts.create("tech", "motdepasse-long", roles=["technicien_epci"], epci=["CAB"])
    accounts.create("gone", "motdepasse-long", roles=["instructeur"])
    accounts.update("gone", active=False)
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(bare_engine.db.engine, "before_cursor_execute", seen)
    try:
        found = accounts.with_role("instructeur")
    finally:
        event.remove(bare_engine.db.engine, "before_cursor_execute", seen)
    assert [a.login for a in found] == ["anne", "zoe"]
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert "user_role" in statements[-1]
    assert [a.login for a in accounts.with_role("technicien_epci")] == ["anne", "tech"]
    assert accounts.with_role("auditeur") == []


def test_migration_0009_fills_the_rows_of_existing_accounts(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite'}")
    try:
        command.upgrade(db.alembic_config(), "0008")
        # The table as it stood at 0008 (the model has gained columns since).
        app_user = table("app_user", *map(column, ("login", "full_name", "email", "password_hash")),
                         column("roles", JSON), column("epci", JSON), column("active"), column("failed_logins"),
                         column("created_at", User.__table__.c.created_at.type))
        common = {"full_name": "", "email": "", "password_hash": "x", "epci": ["CAB"], "active": True,
                  "failed_logins": 0, "created_at": datetime(2014, 1, 1, tzinfo=UTC)}
        with db.engine.begin() as connection:
            connection.execute(app_user.insert(), [
                {**common, "login": "jury", "roles": ["membre_jury_regional", "membre_jury_territorial"]},
                {**common, "login": "nobody", "roles": []},
            ])
        command.upgrade(db.alembic_config(), "0009")
        assert _rows(db, "jury") == [("membre_jury_regional", ""), ("membre_jury_regional", "CAB"),
                                     ("membre_jury_territorial", ""), ("membre_jury_territorial", "CAB")]
        assert _rows(db, "nobody") == []
    finally:
        db.dispose()
