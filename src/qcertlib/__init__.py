"""qcertlib: qualified electronic certificates of the Spanish and EU public PKI.

``import qcertlib`` needs only the core dependencies (cryptography, asn1crypto);
optional parts (PKCS#11, XAdES, PAdES, HTTP services) import their dependencies
lazily. Public names are listed in each module's ``__all__`` and documented.
"""

from qcertlib._version import __version__
from qcertlib.errors import QcertError

__all__ = ["QcertError", "__version__"]
