"""Keys on cryptographic cards and HSMs (PKCS#11): sign, generate, store, issue.

Needs the optional extra ``pkcs11`` (python-pkcs11), imported only when a token is
opened, so ``import qcertlib.tokens`` works without it.

.. code-block:: python

    from qcertlib.signing.options import DigestAlgorithm
    from qcertlib.tokens import Pkcs11Backend

    with Pkcs11Backend.open("/usr/lib/softhsm/libsofthsm2.so", token_label="card",
                            pin=pin, key_label="firma") as backend:
        signatures = backend.sign_digests(digests, DigestAlgorithm.SHA256)
        assert backend.login_count == 1

Why a package of its own rather than ``signing/pkcs11.py``: a token is more than a
signer — the card issuance flow generates keys on it, has it sign a CSR and stores
certificates back — and :mod:`qcertlib.signing` stays free of device management.
"""

from __future__ import annotations

from qcertlib.tokens.backend import Pkcs11Backend
from qcertlib.tokens.issuance import TokenIssuance, build_token_csr, issue_on_token
from qcertlib.tokens.manage import TokenInfo, init_token, list_tokens
from qcertlib.tokens.session import KeyInfo, KeyType, TokenSession

__all__ = [
    "KeyInfo",
    "KeyType",
    "Pkcs11Backend",
    "TokenInfo",
    "TokenIssuance",
    "TokenSession",
    "build_token_csr",
    "init_token",
    "issue_on_token",
    "list_tokens",
]
