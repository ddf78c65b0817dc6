"""daily digest: a staff preference for one summary mail a day, and the digests sent

``app_user.daily_digest`` (default false): the notifier queues no per-task e-mail for such an
account; the worker (or ``dsdt digest``) sends it one mail a day listing its open tasks.
``digest_sent`` holds one row per account and day (Europe/Paris), its primary key making the
digest idempotent whatever the number of workers.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-08 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('daily_digest', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.create_table(
        'digest_sent',
        sa.Column('login', sa.String(length=120), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('tasks', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('login', 'day'),
    )


def downgrade():
    op.drop_table('digest_sent')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('daily_digest')
