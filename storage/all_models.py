"""Imports every model module so Base.metadata knows all tables (for Alembic and tests)."""

from storage import contacts, courses, models  # noqa: F401
