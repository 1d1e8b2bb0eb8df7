"""What only the S3 backend does: presigned URLs, staged uploads, bucket health."""

import gzip
import hashlib
import uuid
from datetime import timedelta

import httpx
import pytest

from storage import (
    BlobHashMismatch,
    BlobSizeMismatch,
    BlobTooLarge,
    S3BlobStore,
    StorageUnavailable,
    StoredBlob,
    open_blob_store,
)
from tests.servers import free_ports
from tests.servers.seaweedfs import S3Server
from tests.storage.conftest import (
    SHARED_BUCKET,
    chunked,
    make_s3_store,
    random_bytes,
    s3_admin_client,
    s3_leftovers,
)

FIVE_MINUTES = timedelta(minutes=5)


async def test_a_presigned_download_url_serves_the_bytes(s3_store: S3BlobStore):
    data = random_bytes(100_000)
    blob = await s3_store.put(chunked(data))

    url = await s3_store.presigned_get_url(blob.key, expires=FIVE_MINUTES)

    assert url is not None
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.content == data


async def test_presigned_urls_name_the_endpoint_clients_reach_when_it_is_another(s3_server: S3Server):
    # The server reaches the store at 127.0.0.1; its clients, say, at localhost (compose: minio:9000
    # inside, localhost:9000 outside).
    port = s3_server.endpoint.rsplit(":", 1)[1]
    store = open_blob_store(
        f"s3://{SHARED_BUCKET}/t-{uuid.uuid4().hex[:12]}",
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_secure=s3_server.secure,
        s3_public_endpoint=f"localhost:{port}",
    )
    assert isinstance(store, S3BlobStore)
    await store.check()
    try:
        data = random_bytes(10_000)
        blob = await store.put(chunked(data))
        download = await store.presigned_get_url(blob.key, expires=FIVE_MINUTES)
        upload = await store.presigned_put_url("an-upload", expires=FIVE_MINUTES)
        assert download is not None and upload is not None
        assert download.startswith(f"http://localhost:{port}/") and upload.startswith(f"http://localhost:{port}/")
        async with httpx.AsyncClient() as http:
            response = await http.get(download)
        assert (response.status_code, response.content) == (200, data)
    finally:
        await store.close()


def test_a_public_endpoint_with_a_scheme_is_refused_in_one_line():
    with pytest.raises(ValueError, match="S3 public endpoint must be host"):
        open_blob_store("s3://bucket", s3_endpoint="127.0.0.1:9000", s3_public_endpoint="https://s3.example.com")


async def test_a_presigned_download_url_honours_range(s3_store: S3BlobStore):
    data = random_bytes(100_000)
    blob = await s3_store.put(chunked(data))
    url = await s3_store.presigned_get_url(blob.key, expires=FIVE_MINUTES)
    assert url is not None

    async with httpx.AsyncClient() as http:
        response = await http.get(url, headers={"Range": "bytes=1000-1999"})

    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    assert response.content == data[1000:2000]


async def test_a_presigned_download_url_names_the_file_and_its_type(s3_store: S3BlobStore):
    blob = await s3_store.put(chunked(b"%PDF-1.7 ..."))

    url = await s3_store.presigned_get_url(
        blob.key, expires=FIVE_MINUTES, filename='Faktura "zażółć" 1/2.pdf', content_type="application/pdf"
    )

    assert url is not None
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Faktura _zazolc_ 1/2.pdf";')
    assert "filename*=UTF-8''Faktura%20%22za%C5%BC%C3%B3%C5%82%C4%87%22%201%2F2.pdf" in disposition


async def test_a_presigned_download_url_stops_working_when_tampered_with(s3_store: S3BlobStore):
    blob = await s3_store.put(chunked(b"secret"))
    url = await s3_store.presigned_get_url(blob.key, expires=FIVE_MINUTES)
    assert url is not None

    async with httpx.AsyncClient() as http:
        response = await http.get(url.replace("X-Amz-Expires=300", "X-Amz-Expires=301"))

    assert response.status_code == 403


async def stage(store: S3BlobStore, data: bytes, headers: dict[str, str] | None = None) -> str:
    """Upload ``data`` the way a client does: PUT to a presigned staging URL."""
    upload_key = f"upload-{uuid.uuid4().hex}"
    url = await store.presigned_put_url(upload_key, expires=FIVE_MINUTES)
    assert url is not None
    async with httpx.AsyncClient() as http:
        response = await http.put(url, content=data, headers=headers)
    assert response.status_code == 200, response.text
    return upload_key


async def test_a_staged_upload_is_adopted_under_its_hash(s3_store: S3BlobStore, s3_server: S3Server):
    data = random_bytes(300_000)
    digest = hashlib.sha256(data).hexdigest()
    upload_key = await stage(s3_store, data)

    blob = await s3_store.adopt_staged(upload_key, max_size=len(data), expected_sha256=digest, expected_size=len(data))

    assert blob == StoredBlob(key=digest, size=len(data), sha256=digest)
    assert b"".join([c async for c in await s3_store.open(digest)]) == data
    assert await s3_leftovers(s3_server, SHARED_BUCKET, s3_store.prefix)() == []


async def test_bytes_staged_with_a_content_encoding_are_kept_and_served_as_sent(s3_store: S3BlobStore):
    """A client may PUT with ``Content-Encoding: gzip``; S3 keeps that header on the object, and
    an HTTP client that honours it would hash and serve other bytes than the ones stored."""
    data = gzip.compress(random_bytes(50_000) + b"tresc " * 10_000)
    digest = hashlib.sha256(data).hexdigest()
    upload_key = await stage(s3_store, data, headers={"Content-Encoding": "gzip"})

    blob = await s3_store.adopt_staged(upload_key, max_size=None, expected_sha256=digest, expected_size=len(data))

    assert blob.key == digest
    assert b"".join([c async for c in await s3_store.open(digest)]) == data


async def test_a_staged_upload_of_already_stored_bytes_keeps_one_blob(s3_store: S3BlobStore, s3_server: S3Server):
    data = random_bytes(10_000)
    stored = await s3_store.put(chunked(data))

    adopted = await s3_store.adopt_staged(
        await stage(s3_store, data), max_size=None, expected_sha256=None, expected_size=None
    )

    assert adopted == stored
    assert [key async for key in s3_store.keys()] == [stored.key]
    assert await s3_leftovers(s3_server, SHARED_BUCKET, s3_store.prefix)() == []


@pytest.mark.parametrize(
    ("announced", "refusal"),
    [
        ({"expected_size": 999}, BlobSizeMismatch),
        ({"expected_sha256": "0" * 64}, BlobHashMismatch),
        ({"max_size": 999}, BlobTooLarge),
    ],
    ids=["size mismatch", "hash mismatch", "too large"],
)
async def test_a_staged_upload_that_is_not_what_was_announced_is_refused_and_deleted(
    s3_store: S3BlobStore, s3_server: S3Server, announced: dict, refusal: type[Exception]
):
    upload_key = await stage(s3_store, random_bytes(1000))
    limits = {"max_size": None, "expected_sha256": None, "expected_size": None} | announced

    with pytest.raises(refusal):
        await s3_store.adopt_staged(upload_key, **limits)

    assert [key async for key in s3_store.keys()] == []
    assert await s3_leftovers(s3_server, SHARED_BUCKET, s3_store.prefix)() == []


async def test_an_upload_key_cannot_escape_the_staging_area(s3_store: S3BlobStore):
    for bad in ["../ab/cd/x", "a/b", ".hidden", ""]:
        with pytest.raises(ValueError, match="not an upload key"):
            await s3_store.presigned_put_url(bad, expires=FIVE_MINUTES)


async def test_staged_objects_are_not_listed_as_blobs(s3_store: S3BlobStore):
    await stage(s3_store, b"not yet verified")

    assert [key async for key in s3_store.keys()] == []


async def test_check_creates_a_missing_bucket(s3_server: S3Server):
    bucket = f"kartoteka-new-{uuid.uuid4().hex[:8]}"
    store = make_s3_store(s3_server, bucket)

    await store.check()

    assert s3_admin_client(s3_server).bucket_exists(bucket)
    s3_admin_client(s3_server).remove_bucket(bucket)
    await store.close()


async def test_check_reports_an_unreachable_endpoint_in_one_line():
    (closed_port,) = free_ports(1)
    store = open_blob_store(
        "s3://kartoteka", s3_endpoint=f"127.0.0.1:{closed_port}", s3_access_key="k", s3_secret_key="s", s3_secure=False
    )

    with pytest.raises(StorageUnavailable) as failure:
        await store.check()

    message = str(failure.value)
    assert "\n" not in message
    assert f"127.0.0.1:{closed_port}" in message
    assert "unreachable" in message
    await store.close()


async def test_check_reports_rejected_credentials_in_one_line(s3_server: S3Server):
    store = open_blob_store(
        f"s3://{SHARED_BUCKET}",
        s3_endpoint=s3_server.endpoint,
        s3_access_key=s3_server.access_key,
        s3_secret_key="not-the-secret",
        s3_secure=False,
    )

    with pytest.raises(StorageUnavailable, match="refused the credentials") as failure:
        await store.check()

    assert "\n" not in str(failure.value)
    await store.close()


async def test_reading_from_an_unreachable_endpoint_is_unavailable_not_missing():
    (closed_port,) = free_ports(1)
    store = open_blob_store("s3://kartoteka", s3_endpoint=f"127.0.0.1:{closed_port}", s3_secure=False)

    with pytest.raises(StorageUnavailable):
        await store.stat("0" * 64)
    await store.close()


async def test_gc_aborts_a_multipart_upload_a_dead_process_left_unfinished(
    s3_store: S3BlobStore, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
):
    import asyncio

    import storage.s3

    client = s3_admin_client(s3_server)
    name = f"{s3_store.prefix}ab/cd/{'ab' * 32}"
    # As put_file leaves it when its process is killed between the parts and the completion.
    upload_id = client._create_multipart_upload(SHARED_BUCKET, name, {})
    client._upload_part(SHARED_BUCKET, name, b"x" * (5 * 1024 * 1024), None, upload_id, 1)
    elsewhere = client._create_multipart_upload(SHARED_BUCKET, "another-prefix/object", {})

    def unfinished(prefix: str) -> list[str]:
        return [u.upload_id for u in client._list_multipart_uploads(SHARED_BUCKET, prefix=prefix).uploads]

    # One begun less than a day ago may still be sending its parts, whatever the grace period.
    assert await s3_store.purge_stale(timedelta(0)) == 0
    assert unfinished(s3_store.prefix) == [upload_id]
    monkeypatch.setattr(storage.s3, "MULTIPART_GRACE", timedelta(0))  # as a day later
    await asyncio.sleep(1.1)  # S3 dates uploads to the second
    assert await s3_store.purge_stale(timedelta(0), dry_run=True) == 1
    assert await s3_store.purge_stale(timedelta(0)) == 1
    assert unfinished(s3_store.prefix) == []
    assert unfinished("another-prefix/") == [elsewhere]  # not this store's
    client._abort_multipart_upload(SHARED_BUCKET, "another-prefix/object", elsewhere)
