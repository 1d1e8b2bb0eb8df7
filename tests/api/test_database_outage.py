"""A database that cannot serve right now is said to be so, not hidden behind "internal server error"."""

from __future__ import annotations

import socket
import sqlite3
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

import resolvers.context as context
from dms.db import is_unavailable
from tests.api.test_metrics import scrape, value


class _PostgresError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")), True),
        (OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full")), True),
        (DBAPIError("INSERT", {}, _PostgresError("53100")), True),  # disk full
        (OperationalError("SELECT", {}, sqlite3.OperationalError('near "SELEC": syntax error')), False),
        (DBAPIError("SELECT 1", {}, _PostgresError("57P03")), True),  # the database system is starting up
        (DBAPIError("SELECT 1", {}, _PostgresError("08006")), True),  # connection failure
        (DBAPIError("SELECT 1", {}, _PostgresError("42P01")), False),  # undefined table: a bug
        (DBAPIError("SELECT 1", {}, Exception("closed"), connection_invalidated=True), True),
        (PoolTimeout("QueuePool limit of size 5 overflow 10 reached"), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (TimeoutError(), True),
        (socket.gaierror(-2, "Name or service not known"), True),
        (FileNotFoundError(2, "No such file"), False),
        (ValueError("a bug"), False),
    ],
)
def test_what_counts_as_the_database_being_unavailable(error: BaseException, unavailable: bool) -> None:
    assert is_unavailable(error) is unavailable


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "DATABASE_UNAVAILABLE"),
        (OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: documents")), "INTERNAL_SERVER_ERROR"),
    ],
)
async def test_a_request_meeting_an_outage_says_so_and_a_bug_stays_masked(alice, monkeypatch, error, code):
    @asynccontextmanager
    async def failing(*_args: Any, **_kwargs: Any):
        raise error
        yield

    monkeypatch.setattr(context, "unit_of_work", failing)
    result = await alice.gql("{ documents { totalCount } }")
    [reported] = result.body["errors"]
    assert reported["extensions"]["code"] == code
    assert reported["extensions"]["requestId"]
    assert "no such table" not in reported["message"] and "refused" not in reported["message"]


async def test_a_token_that_cannot_be_checked_for_an_outage_is_a_503_with_the_code(alice, monkeypatch):
    from dms.identity import service as identity

    async def refused(*_args: Any) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(identity, "actor_for_token", refused)
    response = await alice.http.post("/graphql", json={"query": "{ me { username } }"}, headers=alice.headers)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"
    assert response.json()["errors"][0]["extensions"]["requestId"] == response.headers["x-request-id"]
    # Counted under the route it hit, so an alert on /graphql's 5xx sees the outage.
    scraped = await scrape(alice.http)
    assert value(scraped, "kartoteka_http_requests_total", route="/graphql", method="POST", status="503") == 1
