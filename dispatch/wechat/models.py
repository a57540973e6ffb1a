"""What the WeChat adapter stores: the accounts of the alliance, inbound messages, template results."""
from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.extensions import db
from dispatch.org.models import Community
from dispatch.timeutil import UTCDateTime, system_now


class WeChatAccount(db.Model):
    """One official account of the alliance: the district's (no community) or a community's."""

    __tablename__ = "wechat_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    appid: Mapped[str] = mapped_column(String(32), unique=True)
    token: Mapped[str] = mapped_column(String(64))
    aes_key: Mapped[str | None] = mapped_column(String(43))
    secret: Mapped[str] = mapped_column(String(64))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    hotline: Mapped[str | None] = mapped_column(String(32))
    templates: Mapped[dict] = mapped_column(JSON, default=dict)
    # The account's access token, shared by every process (WeChat retires a token when another is fetched).
    access_token: Mapped[str | None] = mapped_column(String(512))
    access_token_expires_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=system_now)
    community: Mapped[Community | None] = relationship()


class InboundMessage(db.Model):
    """A message or event exactly as WeChat pushed it, stored before it is acted on; one row per MsgId."""

    __tablename__ = "wechat_inbound"
    __table_args__ = (UniqueConstraint("account_id", "dedup_key", name="uq_wechat_inbound_dedup"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("wechat_accounts.id"))
    dedup_key: Mapped[str] = mapped_column(String(128))
    msg_type: Mapped[str] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(64))
    from_openid: Mapped[str] = mapped_column(String(64), index=True)
    create_time: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[str] = mapped_column(Text)
    received_at = mapped_column(UTCDateTime, default=system_now)
    status: Mapped[str] = mapped_column(String(16), default="received")  # received, processed, opened, failed
    # The text answered, repeated to WeChat's retries; none stored for "opened" (it is made from the ticket).
    reply: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)


class TemplateResult(db.Model):
    """WeChat's report (TEMPLATESENDJOBFINISH) of whether a template message reached the resident."""

    __tablename__ = "wechat_template_results"
    __table_args__ = (UniqueConstraint("account_id", "msgid", name="uq_wechat_template_results_msgid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("wechat_accounts.id"))
    msgid: Mapped[str] = mapped_column(String(64))
    openid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(64))
    reported_at = mapped_column(UTCDateTime, default=system_now)
