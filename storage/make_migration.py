"""Developer tool: python -m storage.make_migration REV_ID DOWN_REV "message" [BRANCH_LABEL]

Autogenerates a migration against a scratch SQLite database brought to the current heads.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from storage.db import alembic_config, make_engine, migrate


def main(argv: list[str]) -> None:
    rev_id, down, message = argv[0], argv[1], argv[2]
    branch = argv[3] if len(argv) > 3 else None
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        if down != "none":
            migrate(engine)
        config = alembic_config(engine)
        command.revision(
            config,
            message=message,
            autogenerate=True,
            rev_id=rev_id,
            head=down if down != "none" else "base",
            branch_label=branch,
            splice=down != "none",
        )
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
