"""residents: one resident per caller phone number (a partial unique index), so one upsert finds or creates them

Callers known only by phone (openid NULL) who were stored twice under the same number are merged first:
their tickets move to the oldest of them and the others are deleted. The downgrade restores the plain
index; merged duplicates stay merged.

Revision ID: 8c3f2d6e1b57
Revises: 5b1e0c7d2a94
Create Date: 2026-11-21 15:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c3f2d6e1b57'
down_revision = '5b1e0c7d2a94'
branch_labels = None
depends_on = None

CALLER = "openid IS NULL AND phone IS NOT NULL"
# A caller row with an older row of the same number: a duplicate to merge into the oldest.
LATER_DUPLICATE = (f"{CALLER} AND EXISTS (SELECT 1 FROM residents o WHERE o.phone = residents.phone "
                   "AND o.openid IS NULL AND o.id < residents.id)")


def upgrade():
    op.execute("UPDATE tickets SET resident_id = (SELECT min(o.id) FROM residents o JOIN residents r "
               "ON o.phone = r.phone WHERE r.id = tickets.resident_id AND o.openid IS NULL) "
               f"WHERE resident_id IN (SELECT id FROM residents WHERE {LATER_DUPLICATE})")
    op.execute(f"DELETE FROM residents WHERE {LATER_DUPLICATE}")
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_index('ix_residents_phone')
        batch_op.create_index('uq_residents_caller_phone', ['phone'], unique=True,
                              postgresql_where=sa.text('openid IS NULL'), sqlite_where=sa.text('openid IS NULL'))


def downgrade():
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_index('uq_residents_caller_phone', postgresql_where=sa.text('openid IS NULL'),
                            sqlite_where=sa.text('openid IS NULL'))
        batch_op.create_index('ix_residents_phone', ['phone'], unique=False)
