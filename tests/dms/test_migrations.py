"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dms.migrate import is_up_to_date
from dms.models import Base


async def test_migrated_database_matches_the_models(services: Any, settings: Any) -> None:
    engine = services.db.engine

    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == [], "run `make migration` and commit the result"
    assert await is_up_to_date(engine, settings.resolved_database_url)
