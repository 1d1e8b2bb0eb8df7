"""The whole document flow with its bytes in a real S3 server (SeaweedFS), as a company runs it."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from dms.documents.models import StagedUpload
from dms.maintenance import collect_garbage
from kartoteka.settings import Settings
from tests.api.helpers import DOCUMENT_FIELDS, check_in, create_binder, create_document
from tests.conftest import drain

CONTENT = "Umowa leasingu nr UL/2026/77 — zażółć gęślą jaźń.\n".encode() * 50


@pytest.fixture
def settings(tmp_path: Path, database_url: str, s3_server) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        storage_url=f"s3://kartoteka-tests/{uuid.uuid4().hex}",
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_secure=s3_server.secure,
        secret_key="test-secret-key-not-for-production",
        max_upload_bytes=5 * 1024 * 1024,
        download_redirect_to_storage=True,
    )


@pytest.fixture(autouse=True)
async def bucket(services) -> None:
    """`kartoteka serve` checks the store first, which creates the bucket; so does every test here."""
    await services.blobs.check()


async def test_upload_check_in_and_download_through_s3(alice, http, services, indexer):
    binder = await create_binder(alice, "Leasing")
    document = await create_document(alice, binder["id"], "Umowa leasingu", CONTENT, filename="umowa.txt")
    assert await services.blobs.exists(hashlib.sha256(CONTENT).hexdigest())
    payload = (await check_in(alice, document["id"], CONTENT + b"aneks")).payload("checkInDocument")
    assert payload["document"]["currentVersion"]["number"] == "1.1"
    url = payload["document"]["currentVersion"]["downloadUrl"]
    redirect = await http.get(url)
    assert redirect.status_code == 307
    async with httpx.AsyncClient() as outside:
        fetched = await outside.get(redirect.headers["location"])
        assert fetched.content == CONTENT + b"aneks"
        ranged = await outside.get(redirect.headers["location"], headers={"Range": "bytes=0-4"})
        assert ranged.status_code == 206 and ranged.content == CONTENT[:5]
    await drain(indexer)
    found = await alice.gql('{ search(query: "leasingu UL/2026/77") { totalCount } }')
    assert found.data["search"]["totalCount"] == 1


async def test_a_staged_upload_goes_straight_to_s3(alice, http, services):
    big = b"Umowa ramowa. " * 20000
    slot = (
        await alice.gql(
            "mutation($i: RequestUploadInput!) { requestUpload(input: $i) { uploadId uploadUrl userErrors { code } } }",
            i={"filename": "ramowa.txt", "size": len(big), "sha256": hashlib.sha256(big).hexdigest()},
        )
    ).payload("requestUpload")
    assert slot["uploadUrl"].startswith("http://127.0.0.1")
    async with httpx.AsyncClient() as outside:
        assert (await outside.put(slot["uploadUrl"], content=big)).status_code == 200
    # gc may run between the PUT and the createDocument: bytes still waiting to be used stay.
    kept = await collect_garbage(services.db, services.blobs, grace=timedelta(0), dry_run=True)
    assert kept.leftovers == 0
    assert (await collect_garbage(services.db, services.blobs, grace=timedelta(0))).leftovers == 0
    binder = await create_binder(alice, "Ramowe")
    created = await alice.gql(
        "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { %s } userErrors { code } } }"
        % DOCUMENT_FIELDS,
        i={"binderId": binder["id"], "title": "Umowa ramowa", "stagedUploadId": slot["uploadId"]},
    )
    version = created.payload("createDocument")["document"]["currentVersion"]
    assert version["sha256"] == hashlib.sha256(big).hexdigest()
    assert version["mimeType"] == "text/plain"


async def test_gc_removes_the_bytes_of_an_expired_staged_upload(alice, services):
    slot = (
        await alice.gql(
            "mutation($i: RequestUploadInput!) { requestUpload(input: $i) { uploadId uploadUrl } }",
            i={"filename": "a.txt", "size": 5},
        )
    ).payload("requestUpload")
    async with httpx.AsyncClient() as outside:
        assert (await outside.put(slot["uploadUrl"], content=b"hello")).status_code == 200
    async with services.db.write_sessions() as session:
        await session.execute(update(StagedUpload).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        await session.commit()
    would = await collect_garbage(services.db, services.blobs, grace=timedelta(0), dry_run=True)
    assert (would.expired_uploads, would.leftovers) == (1, 1)
    done = await collect_garbage(services.db, services.blobs, grace=timedelta(0))
    assert (done.expired_uploads, done.leftovers) == (1, 1)
    assert (await collect_garbage(services.db, services.blobs, grace=timedelta(0))).leftovers == 0


async def test_a_staged_upload_with_the_wrong_bytes_is_refused(alice, http):
    slot = (
        await alice.gql(
            "mutation($i: RequestUploadInput!) { requestUpload(input: $i) { uploadId uploadUrl } }",
            i={"filename": "a.txt", "size": 5, "sha256": hashlib.sha256(b"hello").hexdigest()},
        )
    ).payload("requestUpload")
    async with httpx.AsyncClient() as outside:
        await outside.put(slot["uploadUrl"], content=b"HELLO")
    binder = await create_binder(alice, "X")
    created = await alice.gql(
        "mutation($i: CreateDocumentInput!) { createDocument(input: $i) { document { id } userErrors { field code } } }",
        i={"binderId": binder["id"], "title": "x", "stagedUploadId": slot["uploadId"]},
    )
    assert created.codes("createDocument") == ["VALIDATION"]
