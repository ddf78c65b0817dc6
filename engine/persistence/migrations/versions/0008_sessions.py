"""sessions: a per-user session version; failed logins counted by client and login

Logout and a new password left old session cookies valid, and the per-account lockout told
which logins exist and let anyone lock an account out. ``app_user.session_version`` is copied
into each session cookie and bumped to end every session of a person; ``login_failure`` counts
failed logins by client and by (client, login) so that guessing is throttled where it comes from.

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
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'login_failure',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('login_key', sa.String(length=64), nullable=False),
        sa.Column('at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_failure_client_login', 'login_failure', ['client', 'login_key', 'at'])
    op.create_index('ix_login_failure_at', 'login_failure', ['at'])


def downgrade():
    op.drop_index('ix_login_failure_at', table_name='login_failure')
    op.drop_index('ix_login_failure_client_login', table_name='login_failure')
    op.drop_table('login_failure')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
