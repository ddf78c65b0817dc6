"""Alembic environment: runs migrations on the engine that engine.persistence.db.Database hands over."""

from alembic import context
from sqlalchemy import create_engine

from engine.persistence.db import lock_migrations
from engine.persistence.models import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))

with engine.begin() as connection:
    lock_migrations(connection)  # before the revision is read: concurrent starts migrate one at a time
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # the revisions this run applied, for Database.upgrade to report
        on_version_apply=lambda step, **_: config.attributes.setdefault("applied", []).append(step.up_revision_id),
    )
    with context.begin_transaction():
        context.run_migrations()
