"""state checkpoints: the stored state is the state after journal entry ``state_seq``

A command no longer rewrites the whole serialized workflow: the state is stored every few
commands (and when the dossier ends), and a load replays the journal entries after
``state_seq``. Existing rows hold the state after their last entry.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_seq', sa.Integer(), nullable=False, server_default='0'))
    op.execute("UPDATE instance SET state_seq = journal_seq")


def downgrade():
    # Older code expects the state after the last entry: only safe where every state is current.
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.drop_column('state_seq')
