"""initial schema

Revision ID: 0001
Revises: 
"""
from alembic import op
import sqlalchemy as sa
import engine.persistence.models


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('blob',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('campaign',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('libelle', sa.String(length=200), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('deployment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version')
    )
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deployment_content_hash'), ['content_hash'], unique=False)

    op.create_table('deployment_file',
    sa.Column('deployment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['blob.sha256'], ),
    sa.PrimaryKeyConstraint('deployment_id', 'path')
    )
    op.create_table('instance',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=False),
    sa.Column('deployment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_code', sa.String(length=40), nullable=False),
    sa.Column('porteur', sa.String(length=120), nullable=False),
    sa.Column('epci', sa.String(length=20), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('jury_type', sa.String(length=20), nullable=True),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('serializer_version', sa.String(length=10), nullable=False),
    sa.Column('claims', sa.JSON(), nullable=False),
    sa.Column('next_timer_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('journal_seq', sa.Integer(), nullable=False),
    sa.Column('journal_head', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_code'], ['campaign.code'], ),
    sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref')
    )
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.create_index('ix_instance_campaign_status', ['campaign_code', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_instance_porteur'), ['porteur'], unique=False)

    op.create_table('journal_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('command', sa.String(length=30), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'seq', name='uq_journal_instance_seq')
    )
    op.create_table('open_task',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_ref', sa.String(length=200), nullable=False),
    sa.Column('bpmn_id', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('epci', sa.String(length=20), nullable=True),
    sa.Column('campaign_code', sa.String(length=40), nullable=False),
    sa.Column('assignee', sa.String(length=120), nullable=True),
    sa.Column('claimed_by', sa.String(length=120), nullable=True),
    sa.Column('due_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('dossier_ref', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'task_ref', name='uq_open_task_ref')
    )
    with op.batch_alter_table('open_task', schema=None) as batch_op:
        batch_op.create_index('ix_open_task_assignee_due', ['assignee', 'due_at'], unique=False)
        batch_op.create_index('ix_open_task_claimed_due', ['claimed_by', 'due_at'], unique=False)
        batch_op.create_index('ix_open_task_role_epci_due', ['role', 'epci', 'due_at'], unique=False)

    op.create_table('timer',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_ref', sa.String(length=200), nullable=False),
    sa.Column('due_at', engine.persistence.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.create_index('ix_timer_due', ['due_at'], unique=False)
        batch_op.create_index('ix_timer_instance', ['instance_id'], unique=False)




def downgrade():

    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.drop_index('ix_timer_instance')
        batch_op.drop_index('ix_timer_due')

    op.drop_table('timer')
    with op.batch_alter_table('open_task', schema=None) as batch_op:
        batch_op.drop_index('ix_open_task_role_epci_due')
        batch_op.drop_index('ix_open_task_claimed_due')
        batch_op.drop_index('ix_open_task_assignee_due')

    op.drop_table('open_task')
    op.drop_table('journal_entry')
    with op.batch_alter_table('instance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instance_porteur'))
        batch_op.drop_index('ix_instance_campaign_status')

    op.drop_table('instance')
    op.drop_table('deployment_file')
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deployment_content_hash'))

    op.drop_table('deployment')
    op.drop_table('campaign')
    op.drop_table('blob')

