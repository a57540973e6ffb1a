"""The standard categories (tickets' seed) loaded with the skills each usually needs (teams' seed)."""
from sqlalchemy import select

from dispatch.extensions import db
from dispatch.teams.skills import CATEGORY_SKILLS
from dispatch.tickets.category_seed import CATEGORY_SEED
from dispatch.tickets.models import Category, Priority


def load_categories():
    """Insert the seeded categories (with their usual skills), or refresh names and keywords; (added, updated)."""
    added = updated = 0
    for spec in CATEGORY_SEED:
        category = db.session.scalar(select(Category).where(Category.code == spec["code"]))
        if category is None:
            # Skills only on insert: an admin's later choice on the categories page survives a reload.
            category = Category(code=spec["code"], required_skills=list(CATEGORY_SKILLS.get(spec["code"], ())))
            db.session.add(category)
            added += 1
        else:
            updated += 1
        category.name, category.sort_order = spec["name"], spec["sort_order"]
        category.default_priority = Priority(spec["default_priority"])
        category.keywords = dict(spec["keywords"])
    db.session.commit()
    return added, updated
