"""deadlines: a time on the day ("imorgon kl 12") and when a deadline was cancelled

Revision ID: 0720
Revises: 0300
"""

from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0720'
down_revision = '0300'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('due_at', storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column('cancelled_at', storage.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('due_at')
