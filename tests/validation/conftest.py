"""Fixtures for the validation tests (on the shared qcertlib.testing PKI)."""

from __future__ import annotations

import pytest

from qcertlib.testing import TestPKI
from tests.signing._pki import Pki, make_pki


@pytest.fixture(scope="session")
def pki(qcert_pki: TestPKI) -> Pki:
    """The shared test PKI plus an RSA citizen and the root CRL."""
    return make_pki(qcert_pki)
