"""access_logs: who saw a resident's whole phone number, when, on which ticket and why

The downgrade drops the table.

Revision ID: e756f06df19e
Revises: d3f1a8c5b720
Create Date: 2026-12-02 01:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e756f06df19e'
down_revision = 'd3f1a8c5b720'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'access_logs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('resident_id', sa.Integer(), nullable=True),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('what', sa.String(length=32), nullable=False),
        sa.Column('why', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_logs_user_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_access_logs_resident_id_residents'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_logs')),
    )
    with op.batch_alter_table('access_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_logs_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_logs_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_logs_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_logs_ticket_id'), ['ticket_id'], unique=False)


def downgrade():
    with op.batch_alter_table('access_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_logs_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_access_logs_resident_id'))
        batch_op.drop_index(batch_op.f('ix_access_logs_user_id'))
        batch_op.drop_index(batch_op.f('ix_access_logs_at'))
    op.drop_table('access_logs')
