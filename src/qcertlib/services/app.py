"""The HTTP face of a CA: OCSP, CRL, CA certificates and health, as one ASGI app.

Why Starlette + uvicorn: the responder core is pure and synchronous and its hot
path (a pre-produced response) is a dictionary hit, so the server's own overhead
decides throughput. Starlette is a thin ASGI toolkit (no ORM, no templating, no
dependencies beyond anyio) whose app object can be mounted in any ASGI stack
(FastAPI, another Starlette app, Django's ASGI router) or served by any ASGI server;
uvicorn with its ``httptools`` parser and ``uvloop`` is a production-grade ASGI
server with graceful shutdown on SIGINT/SIGTERM, keep-alive, backlog and
concurrency limits. A WSGI host can mount it through an ASGI-to-WSGI bridge
(e.g. ``a2wsgi``).

The same app object also speaks RSGI, the interface of granian (a production-grade
HTTP server written in Rust on hyper): ``qcert serve --server granian``. There the
OCSP path gets the request body in one call and hands back the answer in one call,
with no per-request ASGI message dictionaries; measured on 2 cores with wrk, about
1.6x uvicorn's requests per second per worker. Other routes reach the Starlette app
through a small buffered RSGI-to-ASGI bridge.

Routes (relative to where the app is mounted; the default layout matches the URLs
:class:`~qcertlib.issuance.ca.CertificateAuthority` writes into certificates)::

    POST /ocsp              OCSP (RFC 6960 Appendix A.1, body = DER OCSPRequest)
    GET  /ocsp/{base64}     OCSP by GET (URL-encoded base64 of the DER request)
    GET  /{name}.crl        the CA's current CRL (DER, application/pkix-crl)
    GET  /{name}.crt        a CA certificate (DER, application/pkix-cert)
    GET  /health            {"status": "ok"}

    POST /tsa               RFC 3161 time-stamping, when ``ServiceConfig.tsa`` is set
                            (see :mod:`qcertlib.services.tsa`)

Request bodies are limited (``max_request_size``, default 64 KiB: 413 beyond),
and the access log (logger ``qcertlib.services.access``) records method, path
(OCSP GET paths shortened), status, size and duration — never bodies or headers.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from qcertlib.revocation.responder import MALFORMED_REQUEST, UNAUTHORIZED, OcspResponder

__all__ = ["CaEndpoint", "ServiceConfig", "create_app"]

access_log = logging.getLogger("qcertlib.services.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CaEndpoint:
    """One CA served by the app.

    ``name`` is the file stem of its URLs (``/ca.crt``, ``/ca.crl``); ``responder``
    answers OCSP for the certificates it issued; ``crl`` returns the current DER CRL
    (called per request: cache inside it).
    """

    name: str
    certificate: x509.Certificate
    responder: OcspResponder | None = None
    crl: Callable[[], bytes] | None = None


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """What the app serves: CAs (OCSP + CRL + certificate) and extra certificates."""

    cas: tuple[CaEndpoint, ...]
    certificates: dict[str, x509.Certificate] = field(default_factory=dict)
    max_request_size: int = 64 * 1024
    ocsp_path: str = "/ocsp"
    # RFC 3161 TSA (a qcertlib.signing.timestamps.TsaResponder), served at POST /tsa
    tsa: Any = None


_OCSP_TYPE = b"application/ocsp-response"
_PLAIN_TYPE = b"text/plain; charset=utf-8"
_TOO_LARGE = b"request too large\n"


def _content_length(value: bytes | str | None) -> int | None:
    """A Content-Length header's value, or ``None`` if absent or not a length."""
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        return None
    return length if length >= 0 else None


class _App:
    """A small ASGI app: OCSP is on the hot path, so it is routed without a framework
    layer; everything else goes through Starlette."""

    def __init__(self, config: ServiceConfig, fallback: Any) -> None:
        self.config = config
        self.fallback = fallback
        self.ocsp_path = config.ocsp_path.rstrip("/")
        self.responders = [ca.responder for ca in config.cas if ca.responder is not None]

    def ocsp(self, request: bytes) -> bytes:
        answer = MALFORMED_REQUEST
        for responder in self.responders:
            answer = responder.respond(request, at=datetime.now(UTC))
            if answer is not UNAUTHORIZED:
                return answer
        return answer

    # -- routing shared by the ASGI and RSGI faces ------------------------------------

    def _ocsp_route(self, method: str, path: str) -> str | None:
        """``"post"``, ``"get"``, ``"method"`` (405) on the OCSP paths, else ``None``."""
        if path == self.ocsp_path or path == self.ocsp_path + "/":
            return "post" if method == "POST" else "method"
        if method == "GET" and path.startswith(self.ocsp_path + "/"):
            return "get"
        return None

    def _ocsp_answer(self, route: str, path: str, body: bytes | None) -> tuple[int, bytes, bytes]:
        """``(status, body, content type)`` of an OCSP route (*body*: None when too large)."""
        if route == "method":
            return 405, b"use POST or GET /ocsp/{base64}\n", _PLAIN_TYPE
        if route == "post":
            if body is None:
                return 413, _TOO_LARGE, _PLAIN_TYPE
            return 200, self.ocsp(body), _OCSP_TYPE
        encoded = unquote(path[len(self.ocsp_path) + 1 :])
        if len(encoded) > self.config.max_request_size:
            return 414, _TOO_LARGE, _PLAIN_TYPE
        try:
            request = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            request = b""
        return 200, self.ocsp(request), _OCSP_TYPE

    def _log(
        self, client: str, method: str, path: str, status: int, size: int, started: float
    ) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        if path.startswith(self.ocsp_path + "/"):
            path = self.ocsp_path + "/…"  # never log a request (an OCSP GET carries it)
        access_log.info(
            '%s "%s %s" %d %d %.1fms',
            client,
            method,
            path,
            status,
            size,
            (time.perf_counter() - started) * 1000,
        )

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)
            return
        started = time.perf_counter()
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):  # mounted under a prefix (Starlette keeps it)
            path = path[len(root) :]
        method: str = scope["method"]
        status, size = 500, 0
        try:
            route = self._ocsp_route(method, path)
            if route is None:
                status, size = await self._fallback(scope, receive, send)
            else:
                body = await self._body(scope, receive) if route == "post" else b""
                status, payload, content_type = self._ocsp_answer(route, path, body)
                status, size = await _respond(send, status, payload, content_type)
        finally:
            client = scope.get("client") or ("-", 0)
            self._log(client[0], method, path, status, size, started)

    # -- RSGI (granian) ------------------------------------------------------------------

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        """The RSGI face, for ``qcert serve --server granian``: OCSP natively (no ASGI
        message dictionaries on the hot path), every other route through the same
        Starlette fallback as the ASGI face, bridged."""
        started = time.perf_counter()
        path: str = scope.path
        method: str = scope.method
        status, size = 500, 0
        try:
            route = self._ocsp_route(method, path)
            if route is None:
                status, size = await self._rsgi_fallback(scope, protocol)
            else:
                body = await self._rsgi_body(scope, protocol) if route == "post" else b""
                status, payload, content_type = self._ocsp_answer(route, path, body)
                protocol.response_bytes(status, _rsgi_headers(content_type), payload)
                size = len(payload)
        finally:
            self._log(scope.client.rpartition(":")[0], method, path, status, size, started)

    async def _rsgi_body(self, scope: Any, protocol: Any) -> bytes | None:
        """The request body, or ``None`` past ``max_request_size`` (declared or sent)."""
        limit = self.config.max_request_size
        declared = _content_length(scope.headers.get("content-length"))
        if declared is not None:
            if declared > limit:
                return None
            body: bytes = await protocol()
            return body if len(body) <= limit else None
        chunks = []
        total = 0
        async for chunk in protocol:
            total += len(chunk)
            if total > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _rsgi_fallback(self, scope: Any, protocol: Any) -> tuple[int, int]:
        """Serve a non-OCSP route with the ASGI fallback app (small, buffered bodies)."""
        body = await self._rsgi_body(scope, protocol)
        if body is None:
            protocol.response_bytes(413, _rsgi_headers(_PLAIN_TYPE), _TOO_LARGE)
            return 413, len(_TOO_LARGE)
        client_host, _, client_port = scope.client.rpartition(":")
        server_host, _, server_port = scope.server.rpartition(":")
        asgi_scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": scope.http_version,
            "method": scope.method,
            "scheme": scope.scheme,
            "path": scope.path,
            "raw_path": scope.path.encode("utf-8"),
            "query_string": scope.query_string.encode("latin-1"),
            "root_path": "",
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in scope.headers.items()
            ],
            "client": (client_host, int(client_port) if client_port.isdigit() else 0),
            "server": (server_host, int(server_port) if server_port.isdigit() else 0),
            "state": {},
        }
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        answer: dict[str, Any] = {"status": 500, "headers": [], "body": []}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = int(message["status"])
                answer["headers"] = [
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in message.get("headers", ())
                    if name.lower() != b"content-length"  # the server frames the body
                ]
            elif message["type"] == "http.response.body":
                answer["body"].append(message.get("body", b""))

        await self.fallback(asgi_scope, receive, send)
        payload = b"".join(answer["body"])
        protocol.response_bytes(answer["status"], answer["headers"], payload)
        return answer["status"], len(payload)

    async def _fallback(self, scope: Scope, receive: Receive, send: Send) -> tuple[int, int]:
        seen = {"status": 500, "size": 0}

        async def spy(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = int(message["status"])
            elif message["type"] == "http.response.body":
                seen["size"] += len(message.get("body", b""))
            await send(message)

        limited = self._limited_receive(scope, receive)
        if limited is None:
            return await _plain(send, 413, _TOO_LARGE)
        await self.fallback(scope, limited, spy)
        return seen["status"], seen["size"]

    def _declared_length(self, scope: Scope) -> int | None:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                return _content_length(value)
        return None

    def _limited_receive(self, scope: Scope, receive: Receive) -> Receive | None:
        limit = self.config.max_request_size
        declared = self._declared_length(scope)
        if declared is not None and declared > limit:
            return None
        total = 0

        async def limited() -> Message:
            nonlocal total
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > limit:
                    return {"type": "http.disconnect"}
            return message

        return limited

    async def _body(self, scope: Scope, receive: Receive) -> bytes | None:
        limit = self.config.max_request_size
        declared = self._declared_length(scope)
        if declared is not None and declared > limit:
            return None
        chunks = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b""
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> tuple[int, int]:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    return status, len(body)


_RSGI_HEADERS = {
    content_type: [("content-type", content_type.decode()), ("cache-control", "no-store")]
    for content_type in (_OCSP_TYPE, _PLAIN_TYPE)
}


def _rsgi_headers(content_type: bytes) -> list[tuple[str, str]]:
    return _RSGI_HEADERS[content_type]


async def _plain(send: Send, status: int, body: bytes) -> tuple[int, int]:
    return await _respond(send, status, body, _PLAIN_TYPE)


def create_app(config: ServiceConfig) -> Any:
    """Build the ASGI application (needs the ``server`` extra: Starlette).

    The returned object is a plain ASGI callable: serve it with uvicorn
    (:func:`qcertlib.services.serve`) or mount it in your own stack, e.g.
    ``Mount("/pki", app=create_app(config))`` in Starlette/FastAPI.
    """
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    files: dict[str, tuple[bytes, str] | Callable[[], bytes]] = {}
    for ca in config.cas:
        cert_der = ca.certificate.public_bytes(serialization.Encoding.DER)
        files[f"{ca.name}.crt"] = (cert_der, "application/pkix-cert")
        if ca.crl is not None:
            files[f"{ca.name}.crl"] = ca.crl
    for name, cert in config.certificates.items():
        files[f"{name}.crt"] = (
            cert.public_bytes(serialization.Encoding.DER),
            "application/pkix-cert",
        )

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "cas": [ca.name for ca in config.cas]})

    async def published(request: Request) -> Response:
        entry = files.get(request.path_params["name"])
        if entry is None:
            return PlainTextResponse("not found\n", status_code=404)
        if isinstance(entry, tuple):
            return Response(entry[0], media_type=entry[1])
        try:
            der = entry()
        except Exception:
            logging.getLogger(__name__).exception("building the CRL failed")
            return PlainTextResponse("CRL unavailable\n", status_code=503)
        return Response(der, media_type="application/pkix-crl")

    async def not_found(_request: Request, _exc: Exception) -> Response:
        return PlainTextResponse("not found\n", status_code=404)

    starlette = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            *_tsa_routes(config),
            Route("/{name:str}", published, methods=["GET"]),
        ],
        exception_handlers={404: not_found},
    )
    return _App(config, starlette)


def _tsa_routes(config: ServiceConfig) -> list[Any]:
    """The ``/tsa`` route when a TSA responder is configured (qcertlib.services.tsa)."""
    if config.tsa is None:
        return []
    from qcertlib.services.tsa import tsa_routes

    return tsa_routes(config.tsa)
