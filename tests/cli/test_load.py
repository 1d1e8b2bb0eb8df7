"""Twenty clients at once against `kartoteka serve` (uvicorn, loopback) for LOAD_SECONDS: no errors.

The mix is what a busy office does: open counterparty cards, list documents, search, upload new
documents, check documents out and in. Latencies are printed (p50/p99 per kind), never asserted:
speed depends on the machine; benchmarks live in bench/.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from tests.cli.live_api import LiveClient, RequestFailed, create_admin
from tests.servers.kartoteka import kartoteka_environment, running_kartoteka

LOAD_SECONDS = 30.0
CLIENTS = 20
CARDS = 5

CARD = """
query($id: ID!) { counterparty(id: $id) {
  name nip addresses { city } contactPersons { name } isBlocked
  timeline(first: 5) { edges { cursor } }
  documents(first: 5) { edges { node { title currentVersion { number } } } }
} }
"""
DOCUMENTS = """
query($after: String) { documents(first: 20, after: $after) {
  totalCount edges { node { id title owner { username } currentVersion { number size } } }
  pageInfo { hasNextPage endCursor }
} }
"""
SEARCH = "query($q: String!) { search(query: $q, first: 10) { totalCount edges { node { highlights document { title } } } } }"
WORDS = ["umowa", "faktury", "dostawa", "płatności", "najem", "zazolc"]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Office:
    """One client's session: its own connection, its own document to check out and in."""

    def __init__(self, client: LiveClient, binder_id: str, cards: list[str], number: int) -> None:
        self.client = client
        self.binder_id = binder_id
        self.cards = cards
        self.rng = random.Random(number)
        self.number = number
        self.document_id = ""
        self.uploads = 0

    def file(self, word: str) -> bytes:
        return (f"{word} " + " ".join(self.rng.choices(WORDS, k=2_000))).encode()

    async def setup(self) -> None:
        answer = await self.client.create_document(
            self.binder_id, f"Umowa klienta {self.number}", "umowa.txt", self.file("umowa")
        )
        assert not answer.codes and answer.document, answer
        self.document_id = answer.document["id"]

    async def open_card(self) -> None:
        card = (await self.client.gql(CARD, id=self.rng.choice(self.cards)))["counterparty"]
        assert card is not None

    async def list_documents(self) -> None:
        page = (await self.client.gql(DOCUMENTS, after=None))["documents"]
        if page["pageInfo"]["hasNextPage"]:
            await self.client.gql(DOCUMENTS, after=page["pageInfo"]["endCursor"])

    async def search(self) -> None:
        await self.client.gql(SEARCH, q=self.rng.choice(WORDS))

    async def upload(self) -> None:
        self.uploads += 1
        answer = await self.client.create_document(
            self.binder_id, f"Faktura {self.number}/{self.uploads}", "faktura.txt", self.file("faktura")
        )
        assert not answer.codes, answer.codes

    async def check_out_and_in(self) -> None:
        taken = await self.client.check_out(self.document_id)
        assert not taken.codes, taken.codes
        answer = await self.client.check_in(self.document_id, "umowa.txt", self.file("aneks"))
        assert not answer.codes, answer.codes


async def test_twenty_clients_for_thirty_seconds_meet_no_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    environment = kartoteka_environment(data_dir, KARTOTEKA_LOG_LEVEL="WARNING")
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    with running_kartoteka(data_dir, environment=environment) as server:
        create_admin(data_dir, environment)
        limits = httpx.Limits(max_connections=1)  # one connection per client, as a browser tab keeps one busy
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            admin = await LiveClient(http).login()
            binder_id = await admin.create_binder("Umowy")
            cards = []
            for i in range(CARDS):
                created = await admin.gql(
                    "mutation($n: String!) { createCounterparty(input: {name: $n}) { counterparty { id } userErrors { code } } }",
                    n=f"Kontrahent {i}",
                )
                cards.append(created["createCounterparty"]["counterparty"]["id"])
        connections = [httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits) for _ in range(CLIENTS)]
        try:
            offices = [Office(LiveClient(http, admin.token), binder_id, cards, i) for i, http in enumerate(connections)]
            await asyncio.gather(*(office.setup() for office in offices))

            async def work(office: Office) -> None:
                mix: list[tuple[str, Callable[[], Awaitable[None]], int]] = [
                    ("card", office.open_card, 30),
                    ("documents", office.list_documents, 20),
                    ("search", office.search, 20),
                    ("upload", office.upload, 10),
                    ("check-out+in", office.check_out_and_in, 20),
                ]
                names, actions, weights = zip(*mix, strict=True)
                deadline = time.monotonic() + LOAD_SECONDS
                while time.monotonic() < deadline:
                    index = office.rng.choices(range(len(mix)), weights=weights)[0]
                    started = time.perf_counter()
                    try:
                        await actions[index]()
                    except (AssertionError, RequestFailed, httpx.HTTPError) as error:
                        errors.append(f"{names[index]}: {type(error).__name__}: {str(error)[:300]}")
                        continue
                    latencies[names[index]].append(time.perf_counter() - started)

            await asyncio.gather(*(work(office) for office in offices))
        finally:
            for http in connections:
                await http.aclose()
    assert errors == []
    every = [sample for samples in latencies.values() for sample in samples]
    assert len(latencies) == 5 and all(latencies.values())
    with capsys.disabled():
        print(
            f"\nload: {CLIENTS} clients, {LOAD_SECONDS:.0f} s, {len(every)} requests, {len(every) / LOAD_SECONDS:.1f}/s"
        )
        for name, samples in [("all", every), *sorted(latencies.items())]:
            print(
                f"  {name:13} n={len(samples):5}  p50 {percentile(samples, 0.5) * 1000:7.1f} ms"
                f"  p99 {percentile(samples, 0.99) * 1000:7.1f} ms  mean {statistics.fmean(samples) * 1000:7.1f} ms"
            )
