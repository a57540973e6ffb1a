"""queue preferences and live index: each staff member's chosen queue view and order, and an index on
tickets.updated_at so the console's live poll reads only what changed since its last look

Revision ID: 8517cde6bd38
Revises: e756f06df19e
Create Date: 2026-12-02 01:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8517cde6bd38'
down_revision = 'e756f06df19e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferences', sa.JSON(), nullable=True))
    op.create_index('ix_tickets_updated', 'tickets', ['updated_at'], unique=False)


def downgrade():
    op.drop_index('ix_tickets_updated', table_name='tickets')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('preferences')
