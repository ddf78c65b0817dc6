"""incidents: failures of model code recorded per dossier; outbox back-off

A dossier whose timer raised anything but the engine's own errors stopped every timer pass, and
one unsendable e-mail rolled back the whole outbox pass. Failures are now recorded in
``incident`` (in their own transaction), retried with back-off and set aside after a few
attempts; an e-mail refused for a while waits until ``next_attempt_at``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:40:00
"""
from alembic import op
import sqlalchemy as sa

import engine.persistence.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'incident',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('bpmn_id', sa.String(length=120), nullable=True),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('data', sa.Text(), nullable=True),
        sa.Column('first_seen_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('set_aside_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('resolved_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['instance_id'], ['instance.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ux_incident_open', 'incident', ['instance_id', 'kind'], unique=True,
                    sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))
    op.create_index('ix_incident_seen', 'incident', ['last_seen_at'])
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', engine.persistence.models.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_column('next_attempt_at')
    op.drop_index('ix_incident_seen', table_name='incident')
    op.drop_index('ux_incident_open', table_name='incident')
    op.drop_table('incident')
