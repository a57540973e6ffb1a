"""The baselines: a bare Flask app that returns a constant, or inserts one row with Flask-SQLAlchemy."""
import os
from datetime import datetime, timezone

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from config import normalise_database_url

db = SQLAlchemy()


class BenchRow(db.Model):
    """A row about the size of a ticket's core: an id, a text and a timestamp."""

    __tablename__ = "bench_rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(DateTime)


def create_baseline_app(database_url=None):
    """A Flask app with GET /const and POST /insert on DATABASE_URL, Flask-SQLAlchemy defaults."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(database_url or os.environ["DATABASE_URL"])
    db.init_app(app)

    @app.get("/const")
    def const():
        """A constant JSON body: the cost of Flask and gunicorn alone."""
        return {"status": "ok", "value": 42}

    @app.post("/insert")
    def insert():
        """Insert one row from the JSON body's description, commit, return its id."""
        body = request.get_json()
        row = BenchRow(label="bench", text=body["description"],
                       created_at=datetime.now(timezone.utc).replace(tzinfo=None))
        db.session.add(row)
        db.session.flush()
        row_id = row.id
        db.session.commit()
        return {"id": row_id}, 201

    return app


def create_schema(database_url):
    """Create the baseline's table (once, before gunicorn starts, so workers do not race)."""
    app = create_baseline_app(database_url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()


app = create_baseline_app() if "DATABASE_URL" in os.environ else None
