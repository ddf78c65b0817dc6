"""juries as data: standing juries, their members' seats with a term, and sessions per campaign

``jury`` is one standing jury (territorial for one EPCI, or regional) with its default quorum;
``jury_member`` one elected member's seat (élu intercommunal or élu régional, EPCI, term,
president); ``jury_session`` a jury's sitting for a campaign (date, quorum). The pilot juries of
the DSDT call (CA du Boulonnais, CA Valenciennes Métropole, and the regional jury; Artois-Comm
constituted none) are seeded here: they were a Python constant before. See ``engine.juries``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-10 09:00:00
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_START = date(2014, 4, 1)  # the intercommunal councils installed after the March 2014 elections

_JURIES = [
    ("TERR-CAB", "territorial", "CAB", "Jury territorial du Boulonnais", 3),
    ("TERR-CAVM", "territorial", "CAVM", "Jury territorial de Valenciennes Métropole", 3),
    ("REGIONAL", "regional", None, "Jury régional", 2),
]
_MEMBERS = [
    ("TERR-CAB", "jury.cab.president", "Président du jury du Boulonnais", "elu_intercommunal", "CAB", True),
    ("TERR-CAB", "jury.cab.elu1", "Élu du Boulonnais 1", "elu_intercommunal", "CAB", False),
    ("TERR-CAB", "jury.cab.elu2", "Élu du Boulonnais 2", "elu_intercommunal", "CAB", False),
    ("TERR-CAB", "jury.region.elu1", "Élu régional 1", "elu_regional", None, False),
    ("TERR-CAVM", "jury.cavm.president", "Président du jury de Valenciennes Métropole", "elu_intercommunal",
     "CAVM", True),
    ("TERR-CAVM", "jury.cavm.elu1", "Élu de Valenciennes Métropole 1", "elu_intercommunal", "CAVM", False),
    ("TERR-CAVM", "jury.cavm.elu2", "Élu de Valenciennes Métropole 2", "elu_intercommunal", "CAVM", False),
    ("TERR-CAVM", "jury.region.elu2", "Élu régional 2", "elu_regional", None, False),
    ("REGIONAL", "jury.region.president", "Président du jury régional", "elu_regional", None, True),
    ("REGIONAL", "jury.region.elu1", "Élu régional 1", "elu_regional", None, False),
    ("REGIONAL", "jury.region.elu2", "Élu régional 2", "elu_regional", None, False),
]


def upgrade():
    jury = op.create_table(
        'jury',
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('epci', sa.String(length=40), nullable=True),
        sa.Column('libelle', sa.String(length=200), nullable=False),
        sa.Column('quorum', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('code'),
        sa.UniqueConstraint('epci'),
    )
    member = op.create_table(
        'jury_member',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('jury_code', sa.String(length=40), nullable=False),
        sa.Column('login', sa.String(length=120), nullable=False),
        sa.Column('full_name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('epci', sa.String(length=40), nullable=True),
        sa.Column('president', sa.Boolean(), nullable=False),
        sa.Column('term_start', sa.Date(), nullable=False),
        sa.Column('term_end', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['jury_code'], ['jury.code'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_jury_member_jury_code', 'jury_member', ['jury_code'])
    op.create_table(
        'jury_session',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('jury_code', sa.String(length=40), nullable=False),
        sa.Column('campaign_code', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('quorum', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['jury_code'], ['jury.code'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['campaign_code'], ['campaign.code'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('jury_code', 'campaign_code', name='uq_jury_session_campaign'),
    )
    op.create_index('ix_jury_session_campaign_code', 'jury_session', ['campaign_code'])
    keys = ("code", "kind", "epci", "libelle", "quorum")
    op.bulk_insert(jury, [dict(zip(keys, row, strict=True)) for row in _JURIES])
    op.bulk_insert(member, [
        {"jury_code": code, "login": login, "full_name": name, "kind": kind, "epci": epci,
         "president": president, "term_start": _START, "term_end": None}
        for code, login, name, kind, epci, president in _MEMBERS
    ])


def downgrade():
    op.drop_index('ix_jury_session_campaign_code', table_name='jury_session')
    op.drop_table('jury_session')
    op.drop_index('ix_jury_member_jury_code', table_name='jury_member')
    op.drop_table('jury_member')
    op.drop_table('jury')
