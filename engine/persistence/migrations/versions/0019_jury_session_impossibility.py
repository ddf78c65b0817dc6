"""a jury session's impossibility stored on the session

``jury_session.impossible_cause`` ("declaree" or "quorum") and ``impossible_motif``: once a
territorial session is impossible, the dossiers that reach its examination later go to the
regional jury too (:mod:`engine.jury_sessions`).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 06:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jury_session') as batch:
        batch.add_column(sa.Column('impossible_cause', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('impossible_motif', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('jury_session') as batch:
        batch.drop_column('impossible_motif')
        batch.drop_column('impossible_cause')
