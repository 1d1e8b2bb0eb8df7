"""counterparties sort by a Polish sort key

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from dms.counterparties.common import sort_key

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CARDS = sa.table("counterparties", sa.column("id", sa.BigInteger), sa.column("name"), sa.column("sort_name"))


def upgrade() -> None:
    with op.batch_alter_table("counterparties", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sort_name", sa.String(length=1000), server_default="", nullable=False))
    connection = op.get_bind()
    for card_id, name in connection.execute(sa.select(_CARDS.c.id, _CARDS.c.name)).all():
        connection.execute(sa.update(_CARDS).where(_CARDS.c.id == card_id).values(sort_name=sort_key(name)))
    with op.batch_alter_table("counterparties", schema=None) as batch_op:
        batch_op.drop_index("ix_counterparties_listing")
        batch_op.create_index("ix_counterparties_listing", ["deleted_at", "sort_name", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("counterparties", schema=None) as batch_op:
        batch_op.drop_index("ix_counterparties_listing")
        batch_op.create_index("ix_counterparties_listing", ["deleted_at", "name", "id"], unique=False)
        batch_op.drop_column("sort_name")
