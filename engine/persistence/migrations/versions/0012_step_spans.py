"""step spans: the analytics projection of every human step opened and closed on a dossier

``step_span`` holds one row per step opening (its instant and journal entry, the seconds the
dossier spent before it opened and before a person took it up) and, once the step leaves the
inbox, its closing (instant, entry, duration in seconds, and whether a person completed it). Dossiers started before this revision
have no rows: ``dsdt analytics backfill`` rebuilds theirs by replaying their journals.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 04:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'step_span',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('task_ref', sa.String(length=200), nullable=False),
        sa.Column('bpmn_id', sa.String(length=120), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('opened_seq', sa.Integer(), nullable=False),
        sa.Column('before_s', sa.Float(), nullable=False),
        sa.Column('waiting_s', sa.Float(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_seq', sa.Integer(), nullable=True),
        sa.Column('duration_s', sa.Float(), nullable=True),
        sa.Column('completed', sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['instance.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_step_span_instance', 'step_span', ['instance_id', 'closed_seq'], unique=False)


def downgrade():
    op.drop_index('ix_step_span_instance', table_name='step_span')
    op.drop_table('step_span')
