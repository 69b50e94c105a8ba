"""Fixtures: a generated test PKI (root, issuing CA, delegated OCSP signer, leaves)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qcertlib.revocation import OcspResponder, OpenSslIndexSource
from tests.revocation.pki import GeneratedPki, make_pki


@pytest.fixture
def pki(tmp_path: Path) -> GeneratedPki:
    """A PKI with four leaves; leaf 1 is revoked (keyCompromise)."""
    made = make_pki(tmp_path / "pki", leaves=4)
    made.revoke(1)
    return made


@pytest.fixture
def responder(pki: GeneratedPki) -> OcspResponder:
    """Our responder over the PKI's index.txt, signing with the delegated OCSP cert."""
    return OcspResponder(
        pki.ca, OpenSslIndexSource(pki.path("index.txt")), pki.ocsp_key, signer_cert=pki.ocsp
    )
