"""The SeaweedFS test server speaks S3 and enforces its credentials."""

import httpx
import pytest
from minio import Minio
from minio.error import S3Error

from tests.servers.seaweedfs import S3Server


def test_the_s3_server_accepts_its_credentials(s3_server: S3Server):
    client = Minio(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=s3_server.secure)

    assert isinstance(client.list_buckets(), list)


def test_the_s3_server_refuses_a_wrong_secret(s3_server: S3Server):
    client = Minio(s3_server.endpoint, s3_server.access_key, "wrong-secret", secure=s3_server.secure)

    with pytest.raises(S3Error):
        client.list_buckets()


def test_the_s3_server_refuses_anonymous_requests(s3_server: S3Server):
    assert s3_server.endpoint.startswith("127.0.0.1:")

    response = httpx.get(f"http://{s3_server.endpoint}/")

    assert response.status_code == 403
