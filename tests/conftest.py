"""Shared test helpers: real-certificate vectors and third-party tool discovery."""

from __future__ import annotations

import base64
import os
import shutil
import sys
from pathlib import Path

import pytest

VECTORS = Path(__file__).parent / "vectors"
REAL_CERTS = VECTORS / "real-certs"

pytest_plugins = ["qcertlib.testing.pytest_plugin"]


def real_cert_path(name: str) -> Path:
    """Path of a real/official-test certificate (see tests/vectors/real-certs/SOURCES.md)."""
    path = REAL_CERTS / name
    assert path.exists(), f"missing vector {name}"
    return path


def real_p12_bytes(name: str) -> bytes:
    """The bytes of a real PKCS#12 vector, stored as base64 text (``NAME.p12.b64``)."""
    return base64.b64decode((REAL_CERTS / f"{name}.b64").read_text())


def find_tool(name: str) -> str | None:
    """Locate an oracle: the venv's own ``bin`` first (pkilint), then ``PATH``."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    return shutil.which(name)


def require_tool(*names: str) -> dict[str, str]:
    """Return the paths of the named tools.

    A missing tool skips the test on a developer machine but **fails** it under
    ``CI=true``: in CI no oracle may be skipped.
    """
    found: dict[str, str] = {}
    for name in names:
        path = find_tool(name)
        if path is None:
            message = f"third-party tool {name!r} is not installed (run scripts/dev-setup)"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message)
            pytest.skip(message)
        found[name] = path
    return found
