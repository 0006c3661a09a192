"""Imports every model module so Base.metadata knows all tables (for Alembic and tests)."""

from storage import (
    budget,  # noqa: F401
    contacts,  # noqa: F401
    courses,  # noqa: F401
    deadlines,  # noqa: F401
    groups,  # noqa: F401
    meaning,  # noqa: F401
    models,  # noqa: F401
    polls,  # noqa: F401
    reminders,  # noqa: F401
    tally,  # noqa: F401
    taught,  # noqa: F401
)
