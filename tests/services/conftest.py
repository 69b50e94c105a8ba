"""Fixtures for the HTTP service tests: a PKI whose URLs point at a free local port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qcertlib.services import create_app, load_directory
from tests.revocation.pki import GeneratedPki, make_pki
from tests.revocation.servers import free_port, running_app


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[GeneratedPki, str]]:
    """Our app serving an openssl-style PKI directory on 127.0.0.1; leaf 1 revoked."""
    port = free_port()
    pki = make_pki(tmp_path / "pki", base_url=f"http://127.0.0.1:{port}", leaves=3)
    pki.revoke(1)
    app = create_app(load_directory(pki.directory))
    with running_app(app, port) as url:
        yield pki, url
