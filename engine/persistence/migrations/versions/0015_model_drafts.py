"""model drafts: process owners' drafts of the model files, saved without deploying

``model_draft`` holds one row per draft (its name, a revision number that grows at every save,
who created and who last edited it, and when); ``model_draft_file`` its files (BPMN, DMN, form
schemas, ``contract.json``), whole. See ``engine.model_drafts``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09 09:00:00
"""
from alembic import op
import sqlalchemy as sa

import engine.persistence.models


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'model_draft',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
        sa.Column('updated_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'model_draft_file',
        sa.Column('draft_name', sa.String(length=80), nullable=False),
        sa.Column('path', sa.String(length=255), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['draft_name'], ['model_draft.name'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('draft_name', 'path'),
    )


def downgrade():
    op.drop_table('model_draft_file')
    op.drop_table('model_draft')
