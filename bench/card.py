"""The counterparty card query vs a bare ``{ __typename }``, in requests per second over loopback.

Starts ``kartoteka serve`` (a subprocess, the embedded default) on 127.0.0.1 and fills one card as a
salesperson sees it: contact persons, addresses, bank accounts, events, documents. Then
``--concurrency`` async clients (httpx, one connection each, 8 by default) send the same request
for ``--seconds`` (15 by default), first ``{ __typename }`` — what the server costs when it does
nothing: HTTP, auth, GraphQL parsing — then the card's first screen. Ours = card req/s, raw =
``__typename`` req/s; the ratio says what the card itself costs. Target ≥ 0.25×.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

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
from bench.transfer import create_admin, create_binder, gql, login, running_kartoteka

TARGET = 0.25
TYPENAME = "{ __typename }"
CARD = """
query ($id: ID!) { counterparty(id: $id) {
  id name nip nipFormatted regon isBlocked
  categories { name } groups { name } segmentation { name } accountManager { username }
  addresses { uses street city postalCode country }
  contactPersons { name position contactMethods { kind value } }
  bankAccounts { iban }
  blocks { reason }
  timeline(first: 5) { edges { cursor node { __typename } } }
  documents(first: 5) { edges { node { title currentVersion { number size } } } }
} }
"""


def fill_card(client: httpx.Client, token: str, directory: Path) -> str:
    card = gql(
        client,
        'mutation { createCounterparty(input: {name: "ACME Sp. z o.o.", nip: "526-025-09-95"})'
        " { counterparty { id } userErrors { code message } } }",
        token,
    )["createCounterparty"]["counterparty"]["id"]
    for i in range(3):
        gql(
            client,
            "mutation ($id: ID!, $n: String!) { addContactPerson(input: {counterpartyId: $id, name: $n,"
            ' position: "Kierownik", contactMethods: [{kind: EMAIL, value: "jan@example.com"}]})'
            " { userErrors { code message } } }",
            token,
            id=card,
            n=f"Jan Kowalski {i}",
        )
        gql(
            client,
            "mutation ($id: ID!) { addAddress(input: {counterpartyId: $id, uses: [CORRESPONDENCE],"
            ' street: "ul. Piotrkowska 1", postalCode: "90-001", city: "Łódź", country: "PL"})'
            " { userErrors { code message } } }",
            token,
            id=card,
        )
    binder = create_binder(client, token)
    payload = directory / "umowa.txt"
    for i in range(5):
        payload.write_text(f"Umowa {i} z ACME: termin płatności 14 dni.", encoding="utf-8")
        upload_to_card(client, token, binder, card, payload, i)
    return str(card)


def upload_to_card(client: httpx.Client, token: str, binder: str, card: str, path: Path, number: int) -> None:
    """createDocument on the card: transfer's upload, with the card given."""
    operations = {
        "query": "mutation ($input: CreateDocumentInput!) { createDocument(input: $input)"
        " { document { id } userErrors { field code message } } }",
        "variables": {"input": {"binderId": binder, "title": f"Umowa {number}", "counterpartyId": card, "file": None}},
    }
    with open(path, "rb") as handle:
        response = client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
            files={"0": (path.name, handle, "text/plain")},
            headers={"Authorization": f"Bearer {token}", "Apollo-Require-Preflight": "true"},
        )
    body = response.json()
    if response.status_code != 200 or body.get("errors") or body["data"]["createDocument"]["userErrors"]:
        raise RuntimeError(f"createDocument failed: {body}")


async def hammer(base_url: str, token: str, body: dict[str, Any], concurrency: int, seconds: float) -> dict[str, Any]:
    """`concurrency` clients sending `body` for `seconds`: requests per second and latencies."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    stop_at = time.monotonic() + seconds

    async def client() -> None:
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                response = await http.post("/graphql", json=body, headers=headers)
                if response.status_code != 200 or response.json().get("errors"):
                    raise RuntimeError(f"request failed ({response.status_code}): {response.text[:300]}")
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "req_per_s": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    with ExitStack() as stack:
        tmp = stack.enter_context(temporary_directory("kt-bench-card-"))
        env = {
            **os.environ,
            "KARTOTEKA_DATA_DIR": str(tmp / "data"),
            "KARTOTEKA_SECRET_KEY": "bench-secret-key-not-for-production",
            "KARTOTEKA_LOG_LEVEL": "WARNING",
        }
        print("starting kartoteka serve…", flush=True)
        server = stack.enter_context(running_kartoteka(env, tmp))
        create_admin(env)
        client = stack.enter_context(httpx.Client(base_url=server.base_url, timeout=60))
        token = login(client)
        card = fill_card(client, token, tmp)
        shown = gql(client, CARD, token, id=card)["counterparty"]  # also the warm-up
        filled = (len(shown["contactPersons"]), len(shown["addresses"]), len(shown["documents"]["edges"]))
        if filled != (3, 3, 5):
            raise RuntimeError(f"the card was not filled: {shown}")
        gql(client, TYPENAME, token)
        print(f"{args.concurrency} clients, {args.seconds:.0f} s each: {{ __typename }}…", flush=True)
        bare = asyncio.run(hammer(server.base_url, token, {"query": TYPENAME}, args.concurrency, args.seconds))
        print("… and the card", flush=True)
        card_figures = asyncio.run(
            hammer(server.base_url, token, {"query": CARD, "variables": {"id": card}}, args.concurrency, args.seconds)
        )
    return {
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "typename": bare,
        "card": card_figures,
        "ratio": card_figures["req_per_s"] / bare["req_per_s"],
        "targets": {"ratio": TARGET},
    }


def report(figures: dict[str, Any]) -> None:
    card, bare = figures["card"], figures["typename"]
    rows = [
        Row(
            "card query req/s",
            f"{card['req_per_s']:.0f}",
            f"{bare['req_per_s']:.0f}",
            ratio_text(figures["ratio"]),
            target_text(f"≥ {TARGET:.2f}×", figures["ratio"] >= TARGET),
        ),
        Row("  latency p50", f"{card['p50_ms']:.1f} ms", f"{bare['p50_ms']:.1f} ms"),
        Row("  latency p99", f"{card['p99_ms']:.1f} ms", f"{bare['p99_ms']:.1f} ms"),
    ]
    print_table(
        f"card: {figures['concurrency']} clients × {figures['seconds']:.0f} s on 127.0.0.1, kartoteka serve"
        " (raw = { __typename })",
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8, help="clients at once (default 8)")
    parser.add_argument("--seconds", type=float, default=15, help="seconds per measurement (default 15)")
    parser.add_argument("--quick", action="store_true", help="a short run to check the script works")
    parser.add_argument("--timeout", type=float, default=900, help="give up after this many seconds")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = min(args.seconds, 2.0)
    try:
        with deadline(args.timeout):
            figures = run(args)
    except BenchTimeout as exc:
        print(f"card: {exc}", file=sys.stderr)
        return 1
    report(figures)
    if not args.no_save:
        print(f"figures saved in {merge_results('card', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
