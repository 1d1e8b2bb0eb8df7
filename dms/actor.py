"""Who is acting: handed to every service, never read from globals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    username: str
    is_admin: bool = False
    # The client's address, for the audit log; None for the CLI and the indexer.
    address: str | None = None
    token_id: int | None = None


SYSTEM = Actor(user_id=0, username="system", is_admin=True)
