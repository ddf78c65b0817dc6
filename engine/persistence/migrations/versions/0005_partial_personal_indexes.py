"""partial personal indexes: index open tasks by assignee and claimant only where there is one

Most open tasks are neither assigned by the model nor claimed, yet every insert and delete of an
``open_task`` row wrote an entry for them in both indexes. A partial index skips those rows; a
lookup ``assignee = :login`` (or ``claimed_by = :login``) implies the index condition, so both
SQLite and PostgreSQL still use it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_INDEXES = (('ix_open_task_assignee_due', 'assignee'), ('ix_open_task_claimed_due', 'claimed_by'))


def upgrade():
    for name, column in _INDEXES:
        op.drop_index(name, table_name='open_task')
        condition = sa.text(f'{column} IS NOT NULL')
        op.create_index(name, 'open_task', [column, 'due_at'], unique=False,
                        sqlite_where=condition, postgresql_where=condition)


def downgrade():
    for name, column in _INDEXES:
        op.drop_index(name, table_name='open_task')
        op.create_index(name, 'open_task', [column, 'due_at'], unique=False)
