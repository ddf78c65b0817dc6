"""sessions (placeholder: filled in by the work on issue 8)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:40:00
"""
from alembic import op
import sqlalchemy as sa

import engine.persistence.models


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
