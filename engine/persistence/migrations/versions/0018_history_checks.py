"""history checks: tests against history run in the background, their progress and results

``history_check`` holds one row per run (what it tests, who started it, its progress, the
divergent dossiers found, a cancel request). See ``engine.history_check_jobs``.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-10 09:00:00
"""
from alembic import op
import sqlalchemy as sa

import engine.persistence.models


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'history_check',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('source', sa.String(length=120), nullable=False),
        sa.Column('started_by', sa.String(length=120), nullable=False),
        sa.Column('started_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('checked', sa.Integer(), nullable=False),
        sa.Column('same', sa.Integer(), nullable=False),
        sa.Column('cancel_requested', sa.Boolean(), nullable=False),
        sa.Column('diverged', sa.JSON(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('history_check')
