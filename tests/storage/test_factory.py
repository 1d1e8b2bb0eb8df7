"""Choosing a blob store from KARTOTEKA_STORAGE_URL-style URLs."""

from pathlib import Path

import pytest

from storage import FilesystemBlobStore, S3BlobStore, open_blob_store

S3 = {"s3_endpoint": "s3.example.com:9000", "s3_access_key": "key", "s3_secret_key": "secret"}


def test_a_file_url_opens_the_directory_it_names():
    store = open_blob_store("file:///srv/kartoteka/blobs")

    assert isinstance(store, FilesystemBlobStore)
    assert store.root == Path("/srv/kartoteka/blobs")


def test_a_file_url_may_name_localhost_and_escape_spaces():
    store = open_blob_store("file://localhost/srv/my%20blobs")

    assert isinstance(store, FilesystemBlobStore)
    assert store.root == Path("/srv/my blobs")


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://kartoteka", "kartoteka", ""),
        ("s3://kartoteka/", "kartoteka", ""),
        ("s3://kartoteka/prod", "kartoteka", "prod/"),
        ("s3://kartoteka/prod/blobs/", "kartoteka", "prod/blobs/"),
        ("s3://my.bucket-1/x", "my.bucket-1", "x/"),
    ],
)
def test_an_s3_url_names_the_bucket_and_an_optional_prefix(url: str, bucket: str, prefix: str):
    store = open_blob_store(url, **S3)

    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix, store.endpoint) == (bucket, prefix, "s3.example.com:9000")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "garbage",
        "/srv/blobs",
        "ftp://example.com/blobs",
        "file://server/share/blobs",
        "file:relative/blobs",
        "file:///srv/../etc",
        "file:///srv/blobs?x=1",
        "s3://",
        "s3://Upper_Case",
        "s3://ab",
        "s3://bucket/../other",
        "s3://bucket/a//b",
        "s3://bucket#frag",
        "s3://user@bucket",
        "s3://bucket:9000/x",
    ],
)
def test_a_malformed_storage_url_is_refused_with_a_one_line_reason(url: str):
    with pytest.raises(ValueError) as refused:
        open_blob_store(url, **S3)

    assert "\n" not in str(refused.value)


def test_an_s3_url_needs_an_endpoint():
    with pytest.raises(ValueError, match="endpoint"):
        open_blob_store("s3://kartoteka")


@pytest.mark.parametrize("endpoint", ["http://minio:9000", "minio:9000/path", "minio:port"])
def test_an_s3_endpoint_is_host_and_port_only(endpoint: str):
    with pytest.raises(ValueError, match="host\\[:port\\]"):
        open_blob_store("s3://kartoteka", s3_endpoint=endpoint)


def test_an_access_key_without_its_secret_is_refused():
    with pytest.raises(ValueError, match="together"):
        open_blob_store("s3://kartoteka", s3_endpoint="minio:9000", s3_access_key="key")
