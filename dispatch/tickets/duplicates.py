"""Likely duplicates: open tickets of the same community and category, close in time, with a similar address
or similar words (the same corridor light reported by three neighbours)."""
import re
from datetime import timedelta

from sqlalchemy import select

from dispatch.extensions import db
from dispatch.tickets.lifecycle import OPEN_STATUSES
from dispatch.tickets.models import Ticket

ADDRESS_THRESHOLD, TEXT_THRESHOLD = 0.6, 0.35
_NOISE = re.compile(r"[\s，。、！？,.!?：:；;（）()“”\"'…~～-]+")


def bigrams(text):
    """The set of adjacent character pairs of a text, punctuation and spaces left out."""
    clean = _NOISE.sub("", text or "")
    return {clean[i:i + 2] for i in range(len(clean) - 1)} or ({clean} if clean else set())


def similarity(a, b):
    """Jaccard similarity of two texts' character bigrams, 0–1 (Chinese has no spaces to split words on)."""
    first, second = bigrams(a), bigrams(b)
    return len(first & second) / len(first | second) if first and second else 0.0


def why_alike(ticket, other):
    """Why two tickets look like one problem ('地址相近 · 内容相似 62%'), or None when they do not."""
    address = similarity(ticket.address, other.address) if ticket.address and other.address else 0.0
    text = similarity(ticket.description, other.description)
    if address < ADDRESS_THRESHOLD and text < TEXT_THRESHOLD:
        return None
    parts = (["地址相同" if address == 1 else "地址相近"] if address >= ADDRESS_THRESHOLD else [])
    return " · ".join(parts + [f"内容相似 {text:.0%}"])


def likely_duplicates(ticket, window_days, limit=5):
    """[(other ticket, why)] for open tickets of its community and category within window_days of it."""
    if ticket.category_id is None or ticket.status not in OPEN_STATUSES:
        return []
    window = timedelta(days=window_days)
    rows = db.session.scalars(select(Ticket).where(
        Ticket.community_id == ticket.community_id, Ticket.category_id == ticket.category_id,
        Ticket.id != ticket.id, Ticket.status.in_(OPEN_STATUSES),
        Ticket.created_at.between(ticket.created_at - window, ticket.created_at + window))
        .order_by(Ticket.created_at.desc()).limit(200)).all()
    alike = [(other, why) for other in rows if (why := why_alike(ticket, other))]
    return alike[:limit]
