"""Private file helpers: atomic writes with restrictive permissions."""

from __future__ import annotations

import contextlib
import os
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
    fd, tmp_name = _create_temp(directory, target.name)
    try:
        os.fchmod(fd, mode)  # exactly *mode*, whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if fsync:
            os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp_name, target)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return target


_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


def _create_temp(directory: Path, name: str) -> tuple[int, str]:
    """Create ``.<name>.<8 hex>.tmp`` in *directory* exclusively (0600 until chmod).

    Like :func:`tempfile.mkstemp` with the same name shape, for a fraction of its cost
    (a batch creates one per document)."""
    for _ in range(100):
        tmp_name = os.path.join(directory, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp_name, _FLAGS, 0o600), tmp_name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name for {name} in {directory}")  # pragma: no cover
