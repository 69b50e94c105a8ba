"""Issuance toolkit: keys, CSRs, a CA that only issues conforming certificates,
its SQLite registry and the certificate lifecycle (revocation, CRLs, renewal,
generation codes).

.. code-block:: python

    from qcertlib.issuance import CertificateAuthority, KeySpec, generate_key
    from qcertlib.profiles import Citizen

    ca = CertificateAuthority.init("pki", name="Example PKI", key_spec=KeySpec.EC_P256)
    key = generate_key(KeySpec.EC_P256)
    holder = Citizen(given_name="ANA", first_surname="GARCIA", nif="12345678Z",
                     email="ana@example.com")
    cert = ca.issue("citizen", holder, key.public_key())
"""

from __future__ import annotations

from qcertlib.issuance.ca import MAX_VALIDITY, CertificateAuthority, PkiFiles, random_serial
from qcertlib.issuance.csr import build_csr, load_csr, verify_csr
from qcertlib.issuance.keys import (
    KeySpec,
    PrivateKey,
    PublicKey,
    check_key_strength,
    generate_key,
    load_private_key,
    save_private_key,
)
from qcertlib.issuance.lifecycle import (
    DEFAULT_CODE_LENGTH,
    DEFAULT_CODE_MAX_TRIES,
    DEFAULT_CODE_TTL,
    PendingRequest,
    Redemption,
    Renewal,
)
from qcertlib.issuance.registry import (
    CertificateRecord,
    CertificateStatus,
    Registry,
    RevocationReason,
)

__all__ = [
    "DEFAULT_CODE_LENGTH",
    "DEFAULT_CODE_MAX_TRIES",
    "DEFAULT_CODE_TTL",
    "MAX_VALIDITY",
    "CertificateAuthority",
    "CertificateRecord",
    "CertificateStatus",
    "KeySpec",
    "PendingRequest",
    "PkiFiles",
    "PrivateKey",
    "PublicKey",
    "Redemption",
    "Registry",
    "Renewal",
    "RevocationReason",
    "build_csr",
    "check_key_strength",
    "generate_key",
    "load_csr",
    "load_private_key",
    "random_serial",
    "save_private_key",
    "verify_csr",
]
