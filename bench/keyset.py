"""Keyset pagination: the 1,000th page of documents costs what the first does.

``--docs`` documents (100,000 by default; ``--quick``: 5,000) are inserted directly with SQL into a
temporary SQLite database (through the services that would take an hour), in binders of a
non-admin user, so the permission filter applies. Then the ``documents`` query pages through them
over GraphQL in-process (httpx.ASGITransport), ``--page-size`` at a time (100), to collect every
page's cursor — checking no document is lost or repeated — and the first and the last page
(page 1,000 by default) are each fetched ``--repeat`` times. Ours = the last page's median
latency, raw = the first page's: the target is a ratio ≤ 1.5× (OFFSET would grow with the depth).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.support import (
    BenchTimeout,
    Row,
    deadline,
    merge_results,
    percentile,
    print_table,
    ratio_text,
    target_text,
    temporary_directory,
)

PASSWORD = "bench-password-1234"  # noqa: S105 - a throwaway database
TARGET = 1.5
BATCH = 5_000
BINDERS = 10
DOCUMENTS = """
query ($first: Int!, $after: String) {
  documents(first: $first, after: $after) {
    edges { cursor node { id title currentVersion { number size } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def seed(directory: Path, count: int) -> Any:
    """A migrated database with `count` documents (each with version 1.0) owned by "alice"."""
    from sqlalchemy import insert, update

    from dms.actor import SYSTEM, Actor
    from dms.binders import service as binders
    from dms.documents.models import Document, DocumentVersion
    from dms.identity import service as identity
    from dms.migrate import upgrade_sync
    from kartoteka.app import build_services
    from kartoteka.settings import Settings

    settings = Settings(
        data_dir=directory,
        secret_key="bench-secret-key-not-for-production",  # noqa: S106 - a throwaway database
        log_level="WARNING",
        login_max_failures=1000,
    )
    await anyio.Path(directory).mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade_sync, settings.resolved_database_url)
    services = build_services(settings)
    async with services.db.write_sessions() as session:
        user = await identity.create_user(session, SYSTEM, "alice", password=PASSWORD)
        alice = Actor(user_id=user.id, username="alice")
        binder_ids = [(await binders.create_binder(session, alice, f"Segregator {i}")).id for i in range(BINDERS)]
        await session.commit()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for first in range(0, count, BATCH):
        numbers = range(first, min(count, first + BATCH))
        async with services.db.write_sessions() as session:
            # Ids are given, so the versions can point at their documents without a round trip.
            await session.execute(
                insert(Document),
                [
                    {
                        "id": n + 1,
                        "title": f"Faktura FV/2026/{n:06d}",
                        "binder_id": binder_ids[n % BINDERS],
                        "owner_id": alice.user_id,
                        "created_by_id": alice.user_id,
                        "created_at": start + timedelta(seconds=n),
                        "updated_at": start + timedelta(seconds=n),
                        "status": "new",
                        "tags": [],
                        "is_template": False,
                    }
                    for n in numbers
                ],
            )
            await session.execute(
                insert(DocumentVersion),
                [
                    {
                        "id": n + 1,
                        "document_id": n + 1,
                        "major": 1,
                        "minor": 0,
                        "sha256": f"{n:064x}",
                        "size": 1000 + n,
                        "mime_type": "application/pdf",
                        "filename": f"fv-{n:06d}.pdf",
                        "created_at": start + timedelta(seconds=n),
                        "created_by_id": alice.user_id,
                        "extraction_status": "ok",
                    }
                    for n in numbers
                ],
            )
            await session.execute(
                update(Document)
                .where(Document.id.between(numbers[0] + 1, numbers[-1] + 1))
                .values(current_version_id=Document.id)
            )
            await session.commit()
    return settings, services


async def fetch(http: httpx.AsyncClient, token: str, first: int, after: str | None) -> dict[str, Any]:
    response = await http.post(
        "/graphql",
        json={"query": DOCUMENTS, "variables": {"first": first, "after": after}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"documents failed ({response.status_code}): {body}")
    return dict(body["data"]["documents"])


async def timed_page(http: httpx.AsyncClient, token: str, first: int, after: str | None, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await fetch(http, token, first, after)
        samples.append(time.perf_counter() - started)
    return samples


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from kartoteka.app import create_app

    started = time.perf_counter()
    print(f"inserting {args.docs} documents with SQL…", flush=True)
    settings, services = await seed(tmp / "data", args.docs)
    seeded = time.perf_counter() - started
    try:
        app = create_app(settings, services=services)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://kartoteka.bench", timeout=600) as http:
            login = await http.post(
                "/graphql",
                json={
                    "query": 'mutation($p: String!) { login(input: {username: "alice", password: $p}) { token } }',
                    "variables": {"p": PASSWORD},
                },
            )
            token = login.json()["data"]["login"]["token"]
            print(f"  inserted in {seeded:.1f} s; paging through…", flush=True)
            cursors: list[str | None] = [None]
            seen: set[str] = set()
            walk_started = time.perf_counter()
            while True:
                page = await fetch(http, token, args.page_size, cursors[-1])
                seen.update(edge["node"]["id"] for edge in page["edges"])
                if not page["pageInfo"]["hasNextPage"]:
                    break
                cursors.append(page["pageInfo"]["endCursor"])
            walk_seconds = time.perf_counter() - walk_started
            if len(seen) != args.docs:
                raise RuntimeError(f"paging saw {len(seen)} distinct documents of {args.docs}")
            pages = len(cursors)
            await timed_page(http, token, args.page_size, None, 3)  # warm-up: caches, compiled queries
            first_page = await timed_page(http, token, args.page_size, None, args.repeat)
            last_page = await timed_page(http, token, args.page_size, cursors[-1], args.repeat)
    finally:
        if services.search is not None:
            await services.search.close()
        await services.blobs.close()
        await services.db.engine.dispose()
    first_ms = percentile(first_page, 0.5) * 1000
    last_ms = percentile(last_page, 0.5) * 1000
    return {
        "documents": args.docs,
        "page_size": args.page_size,
        "pages": pages,
        "repeat": args.repeat,
        "first_page_p50_ms": first_ms,
        "last_page_p50_ms": last_ms,
        "first_page_p95_ms": percentile(first_page, 0.95) * 1000,
        "last_page_p95_ms": percentile(last_page, 0.95) * 1000,
        "ratio": last_ms / first_ms,
        "walk_seconds": walk_seconds,
        "seed_seconds": seeded,
        "targets": {"ratio": TARGET},
    }


def report(figures: dict[str, Any]) -> None:
    rows = [
        Row(
            f"page {figures['pages']:,} vs page 1, p50",
            f"{figures['last_page_p50_ms']:.1f} ms",
            f"{figures['first_page_p50_ms']:.1f} ms",
            ratio_text(figures["ratio"]),
            target_text(f"≤ {TARGET:.2f}×", figures["ratio"] <= TARGET),
        ),
        Row(
            f"page {figures['pages']:,} vs page 1, p95",
            f"{figures['last_page_p95_ms']:.1f} ms",
            f"{figures['first_page_p95_ms']:.1f} ms",
            ratio_text(figures["last_page_p95_ms"] / figures["first_page_p95_ms"]),
        ),
        Row("walking every page", f"{figures['walk_seconds']:.1f} s"),
    ]
    print_table(
        f"keyset: {figures['documents']:,} documents, {figures['page_size']} per page, each page fetched"
        f" {figures['repeat']}× through GraphQL in-process (raw = page 1)",
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000, help="documents (default 100000)")
    parser.add_argument("--page-size", type=int, default=100, help="documents per page (default 100)")
    parser.add_argument("--repeat", type=int, default=20, help="fetches of each timed page (default 20)")
    parser.add_argument("--quick", action="store_true", help="a small run to check the script works")
    parser.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.docs, args.repeat = min(args.docs, 5_000), min(args.repeat, 5)
    logging.basicConfig(level=logging.WARNING)
    try:
        with deadline(args.timeout), temporary_directory("kt-bench-keyset-") as tmp:
            figures = asyncio.run(run(args, tmp))
    except BenchTimeout as exc:
        print(f"keyset: {exc}", file=sys.stderr)
        return 1
    report(figures)
    if not args.no_save:
        print(f"figures saved in {merge_results('keyset', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
