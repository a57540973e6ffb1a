"""sla schedules: the sweep's next point and fired stages move out of tickets into a narrow table

A sweep rewrites a thousand schedules at a time; in tickets every rewrite added an entry to each of its
indexes. Every existing ticket gets its schedule row, copied from its columns; the downgrade copies back.

Revision ID: 5b1e0c7d2a94
Revises: f977758d2363
Create Date: 2026-11-21 14:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e0c7d2a94'
down_revision = 'f977758d2363'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sla_schedules',
    sa.Column('ticket_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('next_at', sa.DateTime(), nullable=True),
    sa.Column('response_stage', sa.Integer(), server_default='0', nullable=False),
    sa.Column('resolution_stage', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sla_schedules_ticket_id_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_sla_schedules'))
    )
    op.execute("INSERT INTO sla_schedules (ticket_id, next_at, response_stage, resolution_stage) "
               "SELECT id, sla_next_at, response_stage, resolution_stage FROM tickets")
    # Built after the copy: one sort instead of a million single inserts on a large table.
    with op.batch_alter_table('sla_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_schedules_next_at'), ['next_at'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_sla_next')
        batch_op.drop_column('sla_next_at')
        batch_op.drop_column('resolution_stage')
        batch_op.drop_column('response_stage')


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('response_stage', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('resolution_stage', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('sla_next_at', sa.DateTime(), nullable=True))

    for column, source in (('response_stage', 'response_stage'), ('resolution_stage', 'resolution_stage'),
                           ('sla_next_at', 'next_at')):
        fallback = 'NULL' if column == 'sla_next_at' else '0'
        op.execute(f"UPDATE tickets SET {column} = COALESCE((SELECT s.{source} FROM sla_schedules s "
                   f"WHERE s.ticket_id = tickets.id), {fallback})")

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_sla_next', ['sla_next_at'], unique=False)

    with op.batch_alter_table('sla_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_schedules_next_at'))
    op.drop_table('sla_schedules')
