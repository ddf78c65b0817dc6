"""inbox indexes: read a page of open tasks in due order from an index, count without the table

The inbox orders by ``due_at IS NULL, due_at, id`` and filters on role (and EPCI for local
roles); the old ``(role, epci, due_at)`` index could find the rows but not their order, so every
inbox page sorted all of its tasks. The two new indexes lead with that equality, then the order
expression, then the columns the inbox filters on (so counts are index-only).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 00:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('open_task', schema=None) as batch_op:
        batch_op.drop_index('ix_open_task_role_epci_due')
        batch_op.create_index(
            'ix_open_task_inbox_regional',
            ['role', sa.text('(due_at IS NULL)'), 'due_at', 'id', 'epci', 'assignee', 'claimed_by', 'bpmn_id'],
            unique=False,
        )
        batch_op.create_index(
            'ix_open_task_inbox_local',
            ['role', 'epci', sa.text('(due_at IS NULL)'), 'due_at', 'id', 'assignee', 'claimed_by', 'bpmn_id'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('open_task', schema=None) as batch_op:
        batch_op.drop_index('ix_open_task_inbox_local')
        batch_op.drop_index('ix_open_task_inbox_regional')
        batch_op.create_index('ix_open_task_role_epci_due', ['role', 'epci', 'due_at'], unique=False)
