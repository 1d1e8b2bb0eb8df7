"""`kill -9` of `kartoteka serve` in the middle of uploads and check-ins (SQLite + filesystem blobs).

After a restart: `kartoteka fsck` finds every version's bytes intact; `kartoteka gc` removes what the
crash left behind; every version whose mutation answered success is there, downloadable with its
hash, and its document is found by search; nothing whose mutation answered an error left a row.
A mutation cut off by the kill has no answer: it may or may not have happened, but never by half.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sqlite3
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.cli.live_api import Answer, LiveClient, RequestFailed, create_admin
from tests.cli.test_cli import kartoteka
from tests.servers.kartoteka import kartoteka_environment, running_kartoteka

WRITERS = 4
MAX_UPLOAD = 256 * 1024
# Enough confirmed mutations that the kill lands among many others in flight.
CONFIRMED_BEFORE_KILL = 24
WAIT_S = 60.0


def token(rng: random.Random) -> str:
    """A made-up word that occurs in one file only: what search must find it by."""
    return "".join(rng.choices(string.ascii_lowercase, k=12))


def text_file(word: str, rng: random.Random, size: int) -> bytes:
    filler = " ".join(rng.choices(["umowa", "faktura", "dostawa", "płatność", "termin", "najem"], k=size // 8))
    return f"{word}\n{filler}\n".encode()[:size]


@dataclass
class Ledger:
    """What each mutation sent and what it was answered: ok, refused (userErrors) or cut (no answer)."""

    words: dict[str, str] = field(default_factory=dict)  # sha256 of every file sent -> its word
    confirmed: list[tuple[str, str, str]] = field(default_factory=list)  # (document id, number, sha256)
    refused: list[str] = field(default_factory=list)  # sha256 of files whose mutation was refused
    refused_titles: list[str] = field(default_factory=list)
    cut: int = 0

    def sent(self, word: str, content: bytes) -> str:
        sha256 = hashlib.sha256(content).hexdigest()
        self.words[sha256] = word
        return sha256

    def answered(self, answer: Answer, sha256: str, *, title: str | None = None) -> str | None:
        if answer.codes:
            self.refused.append(sha256)
            if title is not None:
                self.refused_titles.append(title)
            return None
        assert answer.document is not None
        version = answer.document["currentVersion"]
        assert version["sha256"] == sha256
        self.confirmed.append((answer.document["id"], version["number"], sha256))
        return str(answer.document["id"])


async def writer(client: LiveClient, binder_id: str, number: int, ledger: Ledger) -> None:
    """Creates documents and checks new versions into them until the server dies under it."""
    rng = random.Random(number)
    mine: list[str] = []
    step = 0
    try:
        while True:
            step += 1
            word = token(rng)
            kind = step % 4 if mine else 0
            if kind == 0:  # a new document
                content = text_file(word, rng, rng.randint(8_000, 96_000))
                title = f"crash {word}"
                sha256 = ledger.sent(word, content)  # before sending: the kill may cut it after the commit
                answer = await client.create_document(binder_id, title, f"{word}.txt", content)
                if created := ledger.answered(answer, sha256, title=title):
                    mine.append(created)
            elif kind == 1:  # a new version
                content = text_file(word, rng, rng.randint(8_000, 96_000))
                sha256 = ledger.sent(word, content)
                answer = await client.check_in(rng.choice(mine), f"{word}.txt", content)
                ledger.answered(answer, sha256)
            elif kind == 2:  # a check-in made from a version that was never the latest: refused
                content = text_file(word, rng, 4_000)
                sha256 = ledger.sent(word, content)
                answer = await client.check_in(rng.choice(mine), f"{word}.txt", content, expected="0.9")
                ledger.answered(answer, sha256)
                assert answer.codes == ["CONFLICT"], answer
            else:  # a file over the upload limit: refused
                content = text_file(word, rng, MAX_UPLOAD + 4_096) + b"x" * 8_192
                title = f"crash {word}"
                sha256 = ledger.sent(word, content)
                answer = await client.create_document(binder_id, title, f"{word}.txt", content)
                ledger.answered(answer, sha256, title=title)
                assert answer.codes == ["UPLOAD_TOO_LARGE"], answer
    except httpx.TransportError:
        ledger.cut += 1  # the kill: this request has no answer


async def stalled_staged_upload(client: LiveClient, started: asyncio.Event, killed: asyncio.Event) -> None:
    """PUTs the first part of a staged upload, then waits, so the kill finds a half-written file."""
    data = await client.gql(
        'mutation { requestUpload(input: {filename: "big.bin", size: 262144}) { uploadUrl userErrors { code } } }'
    )
    url = data["requestUpload"]["uploadUrl"]
    assert url, data

    async def body() -> AsyncIterator[bytes]:
        yield b"\0" * 128 * 1024
        started.set()
        await killed.wait()
        yield b"\0" * 128 * 1024  # to a dead server: the PUT fails

    try:
        await client.http.put(url, content=body())
    except httpx.TransportError:
        pass


def blob_keys(data_dir: Path) -> set[str]:
    return {path.name for path in (data_dir / "blobs").glob("??/??/*") if path.is_file()}


def leftovers(data_dir: Path) -> list[Path]:
    tmp = data_dir / "blobs" / ".tmp"
    return list(tmp.iterdir()) if tmp.is_dir() else []


def rows(data_dir: Path, query: str, *parameters: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{data_dir / 'kartoteka.sqlite3'}?mode=ro", uri=True) as database:
        return database.execute(query, parameters).fetchall()


async def wait_for(condition: object, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not await condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.1)


VERSIONS = """
query($id: ID!) { node(id: $id) { ... on Document {
  versions(first: 100) { edges { node { number sha256 downloadUrl } } }
} } }
"""
SEARCH = "query($q: String!) { search(query: $q, first: 5) { edges { node { document { title } } } } }"


async def test_a_server_killed_mid_write_keeps_what_it_confirmed_and_nothing_it_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    environment = kartoteka_environment(data_dir, KARTOTEKA_MAX_UPLOAD_BYTES=str(MAX_UPLOAD))
    cli_settings = {k: v for k, v in environment.items() if k.startswith("KARTOTEKA_")}
    ledger = Ledger()

    with running_kartoteka(data_dir, environment=environment) as server:
        create_admin(data_dir, environment)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=WAIT_S) as http:
            admin = await LiveClient(http).login()
            binder_id = await admin.create_binder("Umowy")
            stalled, killed = asyncio.Event(), asyncio.Event()
            tasks = [asyncio.create_task(stalled_staged_upload(admin, stalled, killed))]
            tasks += [asyncio.create_task(writer(admin, binder_id, i, ledger)) for i in range(WRITERS)]

            async def ready() -> bool:
                for task in tasks:  # a writer that failed otherwise than by the kill fails the test now
                    if task.done():
                        task.result()
                return stalled.is_set() and bool(leftovers(data_dir)) and len(ledger.confirmed) >= CONFIRMED_BEFORE_KILL

            await wait_for(ready, "the writers never got going")
            server.process.kill()
            server.process.wait()
            killed.set()
            await asyncio.gather(*tasks)
    assert ledger.refused, "the mix always includes refusals"
    print(f"\nbefore the kill: {len(ledger.confirmed)} confirmed, {len(ledger.refused)} refused, {ledger.cut} cut")

    # Nothing refused left a row.
    version_shas = {sha for (sha,) in rows(data_dir, "SELECT sha256 FROM document_versions")}
    assert not version_shas & set(ledger.refused)
    titles = {title for (title,) in rows(data_dir, "SELECT title FROM documents")}
    assert not titles & set(ledger.refused_titles)

    with running_kartoteka(data_dir, environment=environment) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=WAIT_S) as http:
            admin = await LiveClient(http).login()
            # Every confirmed version is there, and its bytes are the ones sent.
            for document_id, number, sha256 in ledger.confirmed:
                edges = (await admin.gql(VERSIONS, id=document_id))["node"]["versions"]["edges"]
                versions = {edge["node"]["number"]: edge["node"] for edge in edges}
                assert versions[number]["sha256"] == sha256
                download = await http.get(versions[number]["downloadUrl"])
                assert download.status_code == 200
                assert hashlib.sha256(download.content).hexdigest() == sha256

            # Every document (confirmed or cut but committed) is found by its current version's word.
            current = rows(
                data_dir,
                "SELECT d.title, v.sha256 FROM documents d JOIN document_versions v ON v.id = d.current_version_id",
            )
            assert len(current) >= len({document_id for document_id, _, _ in ledger.confirmed})
            missing = dict(current)

            async def all_found() -> bool:
                for title, sha256 in list(missing.items()):
                    try:
                        hits = (await admin.gql(SEARCH, q=ledger.words[sha256]))["search"]["edges"]
                    except RequestFailed:
                        return False
                    if title in {hit["node"]["document"]["title"] for hit in hits}:
                        del missing[title]
                return not missing

            await wait_for(all_found, f"not searchable after the restart: {sorted(missing)}")

            fsck = kartoteka(data_dir, "fsck", **cli_settings)
            assert fsck.returncode == 0, fsck.stdout + fsck.stderr
            assert "0 missing, 0 corrupt" in fsck.stdout
            assert leftovers(data_dir), "the half-written staged upload is still there before gc"
            orphans = blob_keys(data_dir) - version_shas
            gc = kartoteka(data_dir, "gc", "--grace-seconds", "0", **cli_settings)
            assert gc.returncode == 0, gc.stdout + gc.stderr
            print(f"gc after the crash: {len(orphans)} orphaned blobs; {' '.join(gc.stdout.split())}")

    # Only the bytes versions point at remain: the orphans and the half-written file are gone.
    assert blob_keys(data_dir) == {sha for (sha,) in rows(data_dir, "SELECT DISTINCT sha256 FROM document_versions")}
    assert leftovers(data_dir) == []
    fsck = kartoteka(data_dir, "fsck", **cli_settings)
    assert fsck.returncode == 0 and "0 missing, 0 corrupt" in fsck.stdout, fsck.stdout + fsck.stderr
