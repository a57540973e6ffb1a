"""residents.asked_at: staff asked this resident a question (a ticket may wait for their answer); the
"answered" message's template mapping

The WeChat callback reads it from the sender's row it already has, so a plain note looks for a waiting ticket
only when one may wait. The downgrade drops the column and the mapping.

Revision ID: a7c4e2f91d30
Revises: 19e535ee0c6f
Create Date: 2026-12-01 23:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c4e2f91d30'
down_revision = '19e535ee0c6f'
branch_labels = None
depends_on = None

# Frozen copy of notify.templates.default_mappings()'s row for the new event at this revision.
ANSWERED = {"event": "answered", "account_code": None, "channel": "wechat_template", "template_id": "TPL_ANSWERED",
            "fields": [["character_string1", "number"], ["thing2", "category"], ["phrase3", "status"],
                       ["time4", "time"], ["thing5", "note"]], "page": "ticket", "active": True}


def _templates():
    return sa.table('notify_templates', sa.column('event'), sa.column('account_code'), sa.column('channel'),
                    sa.column('template_id'), sa.column('fields', sa.JSON()), sa.column('page'),
                    sa.column('active'))


def upgrade():
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asked_at', sa.DateTime(), nullable=True))
    op.bulk_insert(_templates(), [ANSWERED])


def downgrade():
    templates = _templates()
    op.execute(templates.delete().where(templates.c.event == 'answered', templates.c.account_code.is_(None)))
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_column('asked_at')
