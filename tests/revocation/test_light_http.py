"""The light HTTP/1.1 transport of the async checker (``revocation._http``): against
real servers (uvicorn, ``openssl ocsp -port``) and scripted asyncio peers on
127.0.0.1 that answer with chunked bodies, interim answers, close-delimited bodies,
or break the protocol on purpose."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from cryptography import x509

from qcertlib.errors import RevocationUnavailable
from qcertlib.revocation import (
    FailMode,
    NoncePolicy,
    OcspResponder,
    RevocationPolicy,
    RevocationStatus,
    Status,
    check_many,
)
from qcertlib.revocation._http import parse_http_url
from qcertlib.revocation.client import AsyncRevocationChecker
from tests.conftest import require_tool
from tests.revocation.pki import GeneratedPki, make_leaf
from tests.revocation.servers import free_port, running_app
from tests.revocation.test_client import wait_openssl_ready

Script = Callable[[bytes], bytes]
"""The OCSP answer -> the raw bytes the peer writes back."""


def test_parse_http_url() -> None:
    assert parse_http_url("http://127.0.0.1:8080/ocsp?x=1") == (
        "127.0.0.1",
        8080,
        "/ocsp?x=1",
        b"127.0.0.1:8080",
    )
    assert parse_http_url("http://ocsp.example") == ("ocsp.example", 80, "/", b"ocsp.example")
    assert parse_http_url("https://ocsp.example/") is None  # TLS stays with httpx
    assert parse_http_url("http://user@ocsp.example/") is None
    assert parse_http_url("http://ocsp.example/a\r\nX: y") is None
    assert parse_http_url("http://ocsp.example:99999/") is None
    assert parse_http_url("ldap://ldap.example/") is None


class _Peer:
    """An asyncio server: reads one POST per exchange, answers through *script*;
    closes after the answer when *close* is true."""

    def __init__(self, responder: OcspResponder, script: Script, close: bool = False) -> None:
        self.responder = responder
        self.script = script
        self.close = close
        self.connections = 0
        self.requests = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                self.requests += 1
                writer.write(self.script(self.responder.respond(body)))
                await writer.drain()
                if self.close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/ocsp"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await asyncio.sleep(0)  # let the handlers see their connections end


def _hard(**changes: Any) -> RevocationPolicy:
    base: dict[str, Any] = {"fail_mode": FailMode.HARD, "use_crl": False, "timeout": 3.0}
    base.update(changes)
    return RevocationPolicy(**base)


def _run(coroutine: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coroutine())  # type: ignore[arg-type]


def _length(answer: bytes, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
        + extra
        + b"Content-Length: "
        + str(len(answer)).encode()
        + b"\r\n\r\n"
        + answer
    )


def _chunked(answer: bytes) -> bytes:
    half = len(answer) // 2
    return (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{half:x};ext=1\r\n".encode()
        + answer[:half]
        + b"\r\n"
        + f"{len(answer) - half:X}\r\n".encode()
        + answer[half:]
        + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )


GOOD_SCRIPTS: dict[str, tuple[Script, bool]] = {
    "content-length": (_length, False),
    "chunked with extension and trailer": (_chunked, False),
    "100 continue first": (lambda a: b"HTTP/1.1 100 Continue\r\n\r\n" + _length(a), False),
    "HTTP/1.0 delimited by close": (lambda a: b"HTTP/1.0 200 OK\r\n\r\n" + a, True),
    "connection close": (lambda a: _length(a, b"Connection: close\r\n"), True),
}


@pytest.mark.parametrize("name", sorted(GOOD_SCRIPTS))
def test_well_formed_answers_are_read(
    pki: GeneratedPki, responder: OcspResponder, name: str
) -> None:
    script, close = GOOD_SCRIPTS[name]
    peer = _Peer(responder, script, close)

    async def run() -> list[RevocationStatus]:
        async with peer as url, AsyncRevocationChecker(_hard(nonce=NoncePolicy.REQUIRED)) as c:
            return [await c.check(pki.leaves[i], pki.ca, ocsp_url=url) for i in (0, 1, 0)]

    statuses = _run(run)
    assert [s.status for s in statuses] == [Status.GOOD, Status.REVOKED, Status.GOOD]
    assert peer.requests == 3
    assert peer.connections == (3 if close else 1)  # kept alive unless the server closes


def test_idle_connection_closed_by_the_server_is_retried(
    pki: GeneratedPki, responder: OcspResponder
) -> None:
    # keep-alive announced, but the server closes right after each answer
    peer = _Peer(responder, _length, close=True)

    async def run() -> list[RevocationStatus]:
        async with peer as url, AsyncRevocationChecker(_hard(nonce=NoncePolicy.REQUIRED)) as c:
            first = await c.check(pki.leaves[0], pki.ca, ocsp_url=url)
            await asyncio.sleep(0.05)
            return [first, await c.check(pki.leaves[1], pki.ca, ocsp_url=url)]

    statuses = _run(run)
    assert [s.status for s in statuses] == [Status.GOOD, Status.REVOKED]
    assert peer.connections == 2


BAD_SCRIPTS: dict[str, tuple[Script, str, dict[str, Any]]] = {
    "declared oversize": (
        lambda a: b"HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n" + a,
        "larger than the limit",
        {},
    ),
    "chunked oversize": (_chunked, "larger than the limit", {"max_ocsp_size": 100}),
    "close-delimited oversize": (
        lambda a: b"HTTP/1.0 200 OK\r\n\r\n" + a,
        "larger than the limit",
        {"max_ocsp_size": 100},
    ),
    "conflicting lengths": (
        lambda a: b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n" + a,
        "conflicting Content-Length",
        {},
    ),
    "negative length": (
        lambda a: b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n" + a,
        "malformed Content-Length",
        {},
    ),
    "not HTTP": (lambda a: b"SSH-2.0-OpenSSH\r\n\r\n", "malformed HTTP response", {}),
    "header without colon": (
        lambda a: b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n",
        "malformed HTTP header",
        {},
    ),
    "bad chunk size": (
        lambda a: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x10\r\n",
        "malformed chunk size",
        {},
    ),
    "bad chunk end": (
        lambda a: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n",
        "malformed chunk",
        {},
    ),
    "gzip encoding": (
        lambda a: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n" + a,
        "unsupported transfer encoding",
        {},
    ),
    "truncated body": (
        lambda a: b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + a,
        "closed the connection early",
        {},
    ),
    "huge head": (
        lambda a: b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 20000 + b"\r\n\r\n",
        "response head larger",
        {},
    ),
    "status 404": (
        lambda a: b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        "HTTP status 404",
        {},
    ),
    "no answer": (lambda a: b"", "closed the connection", {}),
}


@pytest.mark.parametrize("name", sorted(BAD_SCRIPTS))
def test_protocol_faults_are_fetch_errors(
    pki: GeneratedPki, responder: OcspResponder, name: str
) -> None:
    script, needle, changes = BAD_SCRIPTS[name]

    async def run() -> RevocationStatus | RevocationUnavailable:
        async with (
            _Peer(responder, script, close=True) as url,
            AsyncRevocationChecker(_hard(**changes)) as checker,
        ):
            try:
                return await checker.check(pki.leaves[0], pki.ca, ocsp_url=url)
            except RevocationUnavailable as exc:
                return exc

    verdict = _run(run)
    assert isinstance(verdict, RevocationUnavailable), verdict
    assert needle in str(verdict)


def test_silent_server_times_out(pki: GeneratedPki) -> None:
    async def run() -> str:
        writers: list[asyncio.StreamWriter] = []

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            await reader.read(100_000)

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        try:
            async with AsyncRevocationChecker(_hard(timeout=0.3)) as checker:
                with pytest.raises(RevocationUnavailable) as caught:
                    await checker.check(pki.leaves[0], pki.ca, ocsp_url=url)
        finally:
            server.close()
            for writer in writers:
                writer.close()
                await writer.wait_closed()
        return str(caught.value)

    assert "timed out" in _run(run)


def test_refused_connection(pki: GeneratedPki) -> None:
    url = f"http://127.0.0.1:{free_port()}/ocsp"

    async def run() -> str:
        async with AsyncRevocationChecker(_hard()) as checker:
            with pytest.raises(RevocationUnavailable) as caught:
                await checker.check(pki.leaves[0], pki.ca, ocsp_url=url)
        return str(caught.value)

    assert url in _run(run)


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_check_many_against_uvicorn(
    pki: GeneratedPki, responder: OcspResponder, framing: str
) -> None:
    clients: set[tuple[str, int]] = set()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        clients.add(tuple(scope["client"]))
        answer = responder.respond(body)
        headers = [(b"content-type", b"application/ocsp-response")]
        if framing == "content-length":
            headers.append((b"content-length", str(len(answer)).encode()))
        # without a length uvicorn sends the body chunked
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    port = free_port()
    url = f"http://127.0.0.1:{port}/ocsp"
    leaves = [make_leaf(pki, f"u {i}", pki.ca_key.public_key(), ocsp_url=url) for i in range(12)]
    pki.leaves.extend(leaves)
    pki.revoke(len(pki.leaves) - 1)
    with running_app(app, port):
        results = check_many([(leaf, pki.ca) for leaf in leaves], _hard(concurrency=3))
    statuses = [r.status for r in results if isinstance(r, RevocationStatus)]
    assert statuses == [Status.GOOD] * 11 + [Status.REVOKED]
    assert len(clients) <= 3  # one kept-alive connection per concurrency slot


def test_check_many_one_by_one_against_openssl(pki: GeneratedPki) -> None:
    tools = require_tool("openssl")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    leaves = [make_leaf(pki, f"s {i}", pki.ca_key.public_key(), ocsp_url=url) for i in range(4)]
    pki.leaves.extend(leaves)
    pki.revoke(len(pki.leaves) - 3)
    proc = subprocess.Popen(
        [
            tools["openssl"],
            "ocsp",
            "-index",
            str(pki.path("index.txt")),
            "-port",
            str(port),
            "-rsigner",
            str(pki.path("ocsp.pem")),
            "-rkey",
            str(pki.path("ocsp.key")),
            "-CA",
            str(pki.path("ca.pem")),
            "-nrequest",
            "4",
            "-ndays",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_openssl_ready(proc)
        policy = _hard(timeout=5, concurrency=2, nonce=NoncePolicy.REQUIRED)
        results = check_many([(leaf, pki.ca) for leaf in leaves], policy)
    finally:
        proc.kill()
        proc.wait(timeout=5)
        assert proc.stderr is not None
        proc.stderr.close()
    statuses = [r.status for r in results if isinstance(r, RevocationStatus)]
    assert statuses == [Status.GOOD, Status.REVOKED, Status.GOOD, Status.GOOD]
    assert isinstance(results[1], RevocationStatus)
    assert results[1].reason is x509.ReasonFlags.key_compromise
