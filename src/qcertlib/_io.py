"""Private file helpers: atomic writes with restrictive permissions."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(
    path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600, fsync: bool = True
) -> Path:
    """Write *data* to *path* atomically: a temporary file in the same directory,
    ``fsync``, then ``rename``. The file is created with *mode* (0600 by default, so
    keys and PKCS#12 files are never readable by others, not even for an instant).
    A crash leaves either the old file or the new one, never a partial file.

    ``fsync=False`` skips the ``fsync`` (the batch core syncs once per chunk instead):
    a killed process still never leaves a partial file, only a power loss can.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return target
