"""instance family: the process family an instance runs (a porteur's application, a convention...)

``instance.family`` names the family of the deployment's contract the instance started
(``engine.contract``: ``families``); every instance started before families existed is an
application, ``candidature``. Indexed with the EPCI: a campaign reads the convention of each EPCI.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-09 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('instance') as batch:
        batch.add_column(sa.Column('family', sa.String(length=20), nullable=False, server_default='candidature'))
    op.create_index('ix_instance_family_epci', 'instance', ['family', 'epci'])


def downgrade():
    op.drop_index('ix_instance_family_epci', table_name='instance')
    with op.batch_alter_table('instance') as batch:
        batch.drop_column('family')
