"""place_names: the gazetteer of roads (with house-number ranges) and 小区 names per community; residents'
pending_note and pending_note_at: a district-account note kept until the resident picks their community

The downgrade drops the table and the two columns.

Revision ID: c3d8e5a1b7f2
Revises: a7c4e2f91d30
Create Date: 2026-12-01 23:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d8e5a1b7f2'
down_revision = 'a7c4e2f91d30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'place_names',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('first', sa.Integer(), nullable=True),
        sa.Column('last', sa.Integer(), nullable=True),
        sa.Column('parity', sa.String(length=8), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('place_names', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_place_names_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_place_names_name'), ['name'], unique=False)
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('pending_note_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_column('pending_note_at')
        batch_op.drop_column('pending_note')
    with op.batch_alter_table('place_names', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_place_names_name'))
        batch_op.drop_index(batch_op.f('ix_place_names_community_id'))
    op.drop_table('place_names')
