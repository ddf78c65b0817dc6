"""outbox failures: count sending attempts and set aside a message the server refuses for good

A recipient the SMTP server refuses (a mistyped address, say) used to stop every pass at that
message, so nothing queued after it was ever sent. A refused message now records the attempt and
the server's answer, and is set aside (``failed_at``) on a permanent refusal or after a few
attempts; the others go on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:00:00
"""
from alembic import op
import sqlalchemy as sa

import engine.persistence.models


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('failed_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_column('failed_at')
        batch_op.drop_column('last_error')
        batch_op.drop_column('attempts')
