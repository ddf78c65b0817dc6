"""registration: associations (organisation) and accounts awaiting e-mail verification

Porteurs register themselves for an association: ``organisation`` keeps its name, SIRET or RNA
number and contact address; ``app_user.organisation_id`` links the account to it and
``app_user.pending_verification`` marks an account created inactive until its e-mail address
is verified (an account deactivated by an administrator is not pending: no link reopens it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'organisation',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('identifier', sa.String(length=14), nullable=False),
        sa.Column('email', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.add_column(sa.Column('pending_verification', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False))
        batch_op.create_foreign_key('fk_app_user_organisation', 'organisation', ['organisation_id'], ['id'])


def downgrade():
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint('fk_app_user_organisation', type_='foreignkey')
        batch_op.drop_column('pending_verification')
        batch_op.drop_column('organisation_id')
    op.drop_table('organisation')
