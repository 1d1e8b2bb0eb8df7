"""What every index rebuild does around its batches, whatever it indexes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol


class Rebuild(Protocol):
    async def swap(self) -> None: ...
    async def abort(self) -> None: ...
    async def suspend(self) -> None: ...


@asynccontextmanager
async def swapped_in_when_done(rebuild: Rebuild) -> AsyncIterator[None]:
    """Swap the rebuilt index in when the batches inside finish; drop it when they fail.

    An interruption (Ctrl-C, shutdown) keeps what was built, so a resumed rebuild goes on from there.
    """
    try:
        yield
    except Exception:
        await rebuild.abort()
        raise
    except BaseException:
        await asyncio.shield(rebuild.suspend())
        raise
    await rebuild.swap()
