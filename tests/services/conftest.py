"""Fixtures for the HTTP service tests: a PKI whose URLs point at a free local port."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qcertlib.services import create_app, load_directory
from tests.revocation.pki import GeneratedPki, make_pki
from tests.revocation.servers import free_port, running_app


@pytest.fixture(params=["uvicorn", "granian"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[GeneratedPki, str]]:
    """Our app serving an openssl-style PKI directory on 127.0.0.1; leaf 1 revoked.

    ``uvicorn``: the ASGI app in a thread of this process; ``granian``: ``qcert serve
    --server granian`` (the RSGI face) as a real process.
    """
    port = free_port()
    pki = make_pki(tmp_path / "pki", base_url=f"http://127.0.0.1:{port}", leaves=3)
    pki.revoke(1)
    if request.param == "uvicorn":
        app = create_app(load_directory(pki.directory))
        with running_app(app, port) as url:
            yield pki, url
        return
    with serve_process(pki.directory, port, "--server", "granian") as (url, _log):
        yield pki, url


@pytest.fixture
def served_in_process(tmp_path: Path) -> Iterator[tuple[GeneratedPki, str]]:
    """The ASGI app in a thread of this process (for caplog); leaf 1 revoked."""
    port = free_port()
    pki = make_pki(tmp_path / "pki", base_url=f"http://127.0.0.1:{port}", leaves=3)
    pki.revoke(1)
    with running_app(create_app(load_directory(pki.directory)), port) as url:
        yield pki, url


def wait_health(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the ``qcert serve`` process *proc* answers ``/health`` at *url*."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("qcert serve exited early")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("qcert serve did not come up")


class serve_process:
    """``qcert serve DIRECTORY --port PORT *extra`` as a real process, stopped with
    SIGTERM on exit; yields ``(url, log file)`` (its stderr). ``returncode`` is set
    after the exit."""

    def __init__(self, directory: Path, port: int, *extra: str) -> None:
        self.argv = [
            sys.executable,
            "-m",
            "qcertlib",
            "serve",
            str(directory),
            "--port",
            str(port),
            "--log-level",
            "info",
            *extra,
        ]
        self.url = f"http://127.0.0.1:{port}"
        self.log = directory.parent / f"serve-{port}.log"
        self.returncode: int | None = None

    def __enter__(self) -> tuple[str, Path]:
        self._stderr = self.log.open("wb")
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=self._stderr)
        try:
            wait_health(self.url, self.proc)
        except RuntimeError as exc:
            self.__exit__()
            raise RuntimeError(f"{exc}:\n{self.log.read_text()}") from None
        return self.url, self.log

    def __exit__(self, *_exc: object) -> None:
        self.proc.terminate()
        try:
            self.returncode = self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self._stderr.close()
