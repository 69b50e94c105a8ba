"""HTTP services of a CA: OCSP responder, CRL and CA certificate files (``qcert serve``).

Needs the ``server`` extra (Starlette, uvicorn), imported only when an app is built
or served. See :mod:`qcertlib.services.app` for the routes and the choice of server.
"""

from __future__ import annotations

from qcertlib.services.app import CaEndpoint, ServiceConfig, create_app
from qcertlib.services.config import load_directory, serve

__all__ = ["CaEndpoint", "ServiceConfig", "create_app", "load_directory", "serve"]
