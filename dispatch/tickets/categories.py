"""Categories as stored, and the classifier's suggestion from them (both cached briefly per process)."""
from sqlalchemy import select

from dispatch.cache import TtlCache
from dispatch.errors import Invalid
from dispatch.extensions import db
from dispatch.rows import cached_instance
from dispatch.tickets import classifier
from dispatch.tickets.models import Category

_rules = TtlCache("REFERENCE_CACHE_SECONDS", max_entries=1)
_categories = TtlCache("REFERENCE_CACHE_SECONDS")


def active_categories():
    """Categories residents' requests can be filed under, in display order."""
    return db.session.scalars(select(Category).where(Category.active).order_by(Category.sort_order)).all()


def _classifier_rules():
    """The classifier's rules from the stored categories, rebuilt at most every REFERENCE_CACHE_SECONDS."""
    return _rules.get("rules", lambda: [classifier.CategoryRule(c.code, c.default_priority.value,
                                                                dict(c.keywords or {}))
                                        for c in active_categories()])


def suggest(text):
    """The classifier's suggestion for a text, using the categories as stored (cached briefly)."""
    return classifier.classify(text, _classifier_rules())


def category_by_code(code):
    """The active category with this code, or None (cached briefly: every new ticket needs one)."""
    return cached_instance(_categories, code, lambda: db.session.scalar(
        select(Category).where(Category.code == code, Category.active)))


def category_named(code):
    """The active category with this code (None when blank); an unknown code is refused with a message."""
    if not code:
        return None
    category = category_by_code(code)
    if category is None:
        raise Invalid(f"未知的分类「{code}」", fields={"category": ["未知的分类代码"]})
    return category
