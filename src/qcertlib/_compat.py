"""Living with newer releases of our dependencies.

cryptography 48+ deprecates DSA: touching a name of
``cryptography.hazmat.primitives.asymmetric.dsa`` (even in an ``isinstance`` check
or an annotation) emits a :class:`~cryptography.utils.CryptographyDeprecationWarning`.
pyHanko, signxml and pkilint touch those names when they are imported or when they
classify a key, which nobody using qcertlib can act on. Our own key classification
goes through :func:`is_dsa_public_key`, which never warns; processes that qcertlib
owns (the ``qcert`` command, the batch worker processes) install
:func:`ignore_dsa_deprecation`. A library caller's own warning filters are left alone.
"""

from __future__ import annotations

import functools
import warnings

from cryptography.utils import CryptographyDeprecationWarning

__all__ = ["DSA_DEPRECATION", "ignore_dsa_deprecation", "is_dsa_public_key"]

DSA_DEPRECATION = r"DSA is deprecated"
"""Start of cryptography's deprecation message (a regular expression, for filters)."""


def ignore_dsa_deprecation() -> None:
    """Install a process-wide filter for cryptography's DSA deprecation warning."""
    warnings.filterwarnings(
        "ignore", message=DSA_DEPRECATION, category=CryptographyDeprecationWarning
    )


@functools.cache
def _dsa_public_key_class() -> type:
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=DSA_DEPRECATION, category=CryptographyDeprecationWarning
        )
        from cryptography.hazmat.primitives.asymmetric import dsa

        cls: type = dsa.DSAPublicKey
    return cls


def is_dsa_public_key(key: object) -> bool:
    """Whether *key* is a DSA public key (without cryptography's deprecation warning)."""
    return isinstance(key, _dsa_public_key_class())
