"""S3-compatible object storage for the tests: moto in server mode on a random localhost port.

The one allowed stand-in for cloud storage (the brief): a real HTTP server speaking the S3 API,
reached by boto3 exactly as a MinIO or AWS endpoint would be. One server per session; each test
gets a bucket of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class S3:
    endpoint: str
    bucket: str

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {
            "backup_storage": "s3",
            "backup_s3_endpoint_url": self.endpoint,
            "backup_s3_bucket": self.bucket,
            "backup_s3_prefix": "team/backups",
            "backup_s3_region": "us-east-1",
            "backup_s3_access_key_id": "testing-key",
            "backup_s3_secret_access_key": "testing-secret",
            "backup_s3_path_style": True,
            **extra,
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing-key",
            aws_secret_access_key="testing-secret",
        )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        if os.environ.get("PETCARE_REQUIRE_DB") == "1":
            pytest.fail("moto[server] is required (PETCARE_REQUIRE_DB=1)", pytrace=False)
        pytest.skip("moto[server] is not installed")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str) -> S3:
    found = S3(s3_endpoint, f"pc-{uuid.uuid4().hex[:12]}")
    found.client().create_bucket(Bucket=found.bucket)
    return found
