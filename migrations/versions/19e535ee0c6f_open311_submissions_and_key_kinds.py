"""Open311: submissions stored as received, and api_tokens.kind (bearer token or Open311 api_key)

Revision ID: 19e535ee0c6f
Revises: 326099d9d725
Create Date: 2026-11-21 18:22:42.357801

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '19e535ee0c6f'
down_revision = '326099d9d725'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('open311_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=40), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('account_id', sa.String(length=64), nullable=True),
    sa.Column('device_id', sa.String(length=64), nullable=True),
    sa.Column('address_id', sa.String(length=64), nullable=True),
    sa.Column('media_url', sa.String(length=500), nullable=True),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['api_tokens.id'], name=op.f('fk_open311_submissions_key_id_api_tokens')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_open311_submissions_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_submissions')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_open311_submissions_ticket_id')),
    sa.UniqueConstraint('token', name=op.f('uq_open311_submissions_token'))
    )
    with op.batch_alter_table('open311_submissions', schema=None) as batch_op:
        batch_op.create_index('ix_open311_submissions_status', ['status'], unique=False)

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='api', nullable=False))



def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('kind')

    with op.batch_alter_table('open311_submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_open311_submissions_status')

    op.drop_table('open311_submissions')
