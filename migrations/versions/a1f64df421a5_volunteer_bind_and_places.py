"""volunteers: a single-use WeChat bind link (its hash and expiry) and the place their location came from;
place_names: an optional position (latitude, longitude) so an address resolves to coordinates

Revision ID: a1f64df421a5
Revises: a912b7a47819
Create Date: 2026-12-02 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1f64df421a5'
down_revision = 'a912b7a47819'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('volunteers') as batch:
        batch.add_column(sa.Column('bind_token_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('bind_expires_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('location_label', sa.String(length=200), nullable=True))
        batch.create_index('ix_volunteers_bind_token_hash', ['bind_token_hash'], unique=True)
    with op.batch_alter_table('place_names') as batch:
        batch.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch.add_column(sa.Column('longitude', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('place_names') as batch:
        batch.drop_column('longitude')
        batch.drop_column('latitude')
    with op.batch_alter_table('volunteers') as batch:
        batch.drop_index('ix_volunteers_bind_token_hash')
        batch.drop_column('location_label')
        batch.drop_column('bind_expires_at')
        batch.drop_column('bind_token_hash')
