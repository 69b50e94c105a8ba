"""Testing helpers: a ready-made test PKI and a pytest plugin.

.. code-block:: python

    from qcertlib.testing import TestPKI

    pki = TestPKI.create(tmp_path / "pki")
    pki.citizen.certificate, pki.citizen.private_key, pki.seal_alto.pkcs12("1234")
    pki.revoked.serial in {e.serial_number for e in pki.crl}

In a pytest suite add ``pytest_plugins = ["qcertlib.testing.pytest_plugin"]`` to
``conftest.py`` and use the session-scoped ``qcert_pki`` fixture.

Nothing in qcertlib imports this package; it is built only on the public API.
"""

from __future__ import annotations

from qcertlib.testing.pki import TEST_HOLDERS, Credential, TestPKI

__all__ = ["TEST_HOLDERS", "Credential", "TestPKI"]
