"""The duty roster (值班表) and the alerts of urgent tickets put to the person on call; the template mappings
of the duty messages (WeChat, SMS) and of the director's take-back message

Revision ID: a912b7a47819
Revises: 8517cde6bd38
Create Date: 2026-12-02 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a912b7a47819'
down_revision = '8517cde6bd38'
branch_labels = None
depends_on = None

# Frozen copy of notify.templates.default_mappings()'s rows for the new events at this revision.
_FIELDS = [["character_string1", "number"], ["thing2", "category"], ["phrase3", "status"], ["time4", "time"]]
MAPPINGS = [
    {"event": "duty_alert", "account_code": None, "channel": "wechat_template", "template_id": "TPL_DUTY_ALERT",
     "fields": _FIELDS + [["thing5", "address"]], "page": "console", "active": True},
    {"event": "duty_sms", "account_code": None, "channel": "sms", "template_id": "TPL_DUTY_SMS",
     "fields": _FIELDS + [["thing5", "address"]], "page": "console", "active": True},
    {"event": "taken_back_director", "account_code": None, "channel": "wechat_template",
     "template_id": "TPL_TAKEN_BACK_DIRECTOR", "fields": _FIELDS + [["thing5", "note"]], "page": "console",
     "active": True},
]
EVENTS = [m["event"] for m in MAPPINGS]


def _templates():
    return sa.table('notify_templates', sa.column('event'), sa.column('account_code'), sa.column('channel'),
                    sa.column('template_id'), sa.column('fields', sa.JSON()), sa.column('page'),
                    sa.column('active'))


def upgrade():
    op.create_table(
        'duty_shifts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=True),
        sa.Column('street_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id']),
        sa.ForeignKeyConstraint(['street_id'], ['streets.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('duty_shifts', schema=None) as batch_op:
        batch_op.create_index('ix_duty_shifts_community_id', ['community_id'], unique=False)
        batch_op.create_index('ix_duty_shifts_street_id', ['street_id'], unique=False)
        batch_op.create_index('ix_duty_shifts_starts_at', ['starts_at'], unique=False)
    op.create_table(
        'duty_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('alerted_at', sa.DateTime(), nullable=False),
        sa.Column('escalate_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('duty_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_duty_alerts_ticket_id', ['ticket_id'], unique=False)
        batch_op.create_index('ix_duty_alerts_escalate_at', ['escalate_at'], unique=False)
    op.bulk_insert(_templates(), MAPPINGS)


def downgrade():
    templates = _templates()
    op.execute(templates.delete().where(templates.c.event.in_(EVENTS), templates.c.account_code.is_(None)))
    op.drop_table('duty_alerts')
    op.drop_table('duty_shifts')
