"""user roles: the roles and EPCI scope of each account as indexed rows

Every command that opened a task read every active account with an address and filtered their
JSON ``roles``/``epci`` lists in Python, so a command's cost grew with the number of accounts.
``user_role`` holds one row per (role, EPCI of the scope) and one per role with ``epci = ''``;
the notifier reads the people of a task by ``(role, epci)`` from its primary key. Filled here
from the existing accounts; kept in step by ``engine.accounts`` afterwards.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    user_role = op.create_table(
        'user_role',
        sa.Column('role', sa.String(length=40), nullable=False),
        sa.Column('epci', sa.String(length=20), nullable=False),
        sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('role', 'epci', 'user_id'),
    )
    op.create_index('ix_user_role_user', 'user_role', ['user_id'])
    # The same expansion as engine.accounts.role_rows, written out so that this revision keeps
    # meaning what it meant when later code changes.
    users = sa.table('app_user', sa.column('id'), sa.column('roles', sa.JSON), sa.column('epci', sa.JSON))
    connection = op.get_bind()
    rows = []
    for user_id, roles, scope in connection.execute(sa.select(users.c.id, users.c.roles, users.c.epci)):
        for role in sorted(set(roles or ())):
            rows.extend({'role': role, 'epci': epci, 'user_id': user_id} for epci in sorted({'', *(scope or ())}))
    if rows:
        op.bulk_insert(user_role, rows)


def downgrade():
    op.drop_index('ix_user_role_user', table_name='user_role')
    op.drop_table('user_role')
