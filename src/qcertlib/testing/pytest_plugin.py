"""pytest plugin: a session-scoped :class:`~qcertlib.testing.TestPKI` fixture.

Enable it with ``pytest_plugins = ["qcertlib.testing.pytest_plugin"]`` in a
``conftest.py``; then ask for ``qcert_pki`` in a test.
"""

from __future__ import annotations

import pytest

from qcertlib.testing.pki import TestPKI

__all__ = ["qcert_pki"]


@pytest.fixture(scope="session")
def qcert_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """A test PKI (EC P-256 keys, certificates valid from now) shared by the session."""
    return TestPKI.create(tmp_path_factory.mktemp("qcert-pki") / "pki")
