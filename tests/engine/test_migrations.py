"""Alembic migrations build exactly the schema the models describe, and go down and up again."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine import Database
from engine.persistence.models import Base


# SQLite cannot reflect expression indexes (the inbox's): SQLAlchemy warns and skips them.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_match_the_models_and_downgrade_cleanly(database_url):
    db = Database(database_url)
    try:
        db.upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        command.downgrade(db.alembic_config(), "base")
        command.upgrade(db.alembic_config(), "head")
    finally:
        db.dispose()
