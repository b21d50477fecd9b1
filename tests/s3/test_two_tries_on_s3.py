"""Two processes of one task instance at once with the ledger on S3 (a moto server): the
claims and records of both tries in one bucket, read back with S3's listing."""

from __future__ import annotations

from pathlib import Path

from tests.ledger.test_two_processes import gateway, two_tries_at_once

from .conftest import MotoS3

__all__ = ["gateway"]


def test_a_resumed_zombie_sends_nothing_with_the_ledger_on_s3(
    gateway: tuple[str, str], moto_s3: MotoS3, tmp_path: Path
) -> None:
    url, protocol = gateway
    two_tries_at_once(url, protocol, moto_s3.url(f"two-tries/{tmp_path.name}"), tmp_path)
