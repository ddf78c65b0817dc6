"""seals: signed Merkle roots over every dossier's journal head

Whoever can write to the database can rewrite a dossier's journal and recompute every hash and the
instance's head; nothing in the database would notice. ``seal`` keeps, at least daily, a Merkle
root over every chain head, signed with an Ed25519 key kept outside the database, each seal
chained to the one before (see ``engine.seals``). The log is exported and published; ``dsdt
verify --seals FILE`` checks the journal against it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:00:00
"""
from alembic import op
import sqlalchemy as sa

import engine.persistence.models


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'seal',
        sa.Column('sequence', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('created_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('seal_hash', sa.String(length=64), nullable=False),
        sa.Column('header', sa.Text(), nullable=False),
        sa.Column('leaves', sa.Text(), nullable=False),
        sa.Column('signature', sa.String(length=120), nullable=False),
        sa.Column('timestamp_token', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('sequence'),
        sa.UniqueConstraint('seal_hash'),
    )


def downgrade():
    op.drop_table('seal')
