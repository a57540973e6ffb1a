"""family_links: a resident's family members (代办人), linked by a single-use, expiring link the resident makes

Only the token's hash is kept. The downgrade drops the table.

Revision ID: d3f1a8c5b720
Revises: c3d8e5a1b7f2
Create Date: 2026-12-01 23:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3f1a8c5b720'
down_revision = 'c3d8e5a1b7f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'family_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('parent_label', sa.String(length=20), nullable=False),
        sa.Column('member_label', sa.String(length=20), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('linked_at', sa.DateTime(), nullable=True),
        sa.Column('removed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['residents.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['parent_id'], ['residents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('family_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_links_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_family_links_parent_id'), ['parent_id'], unique=False)


def downgrade():
    with op.batch_alter_table('family_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_family_links_parent_id'))
        batch_op.drop_index(batch_op.f('ix_family_links_member_id'))
    op.drop_table('family_links')
