"""Fixtures for the signing tests."""

from __future__ import annotations

import pytest

from tests.signing._pki import Pki, make_pki


@pytest.fixture(scope="session")
def pki() -> Pki:
    """One small test PKI for the whole session."""
    return make_pki()
