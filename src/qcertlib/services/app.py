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
            if path == self.ocsp_path or path == self.ocsp_path + "/":
                if method == "POST":
                    body = await self._body(scope, receive)
                    if body is None:
                        status, size = await _plain(send, 413, b"request too large\n")
                    else:
                        status, size = await _respond(send, 200, self.ocsp(body), _OCSP_TYPE)
                else:
                    status, size = await _plain(send, 405, b"use POST or GET /ocsp/{base64}\n")
            elif path.startswith(self.ocsp_path + "/") and method == "GET":
                encoded = unquote(path[len(self.ocsp_path) + 1 :])
                if len(encoded) > self.config.max_request_size:
                    status, size = await _plain(send, 414, b"request too large\n")
                else:
                    try:
                        request = base64.b64decode(encoded, validate=True)
                    except (binascii.Error, ValueError):
                        request = b""
                    status, size = await _respond(send, 200, self.ocsp(request), _OCSP_TYPE)
                path = self.ocsp_path + "/…"
            else:
                status, size = await self._fallback(scope, receive, send)
        finally:
            client = scope.get("client") or ("-", 0)
            access_log.info(
                '%s "%s %s" %d %d %.1fms',
                client[0],
                method,
                path,
                status,
                size,
                (time.perf_counter() - started) * 1000,
            )

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
            return await _plain(send, 413, b"request too large\n")
        await self.fallback(scope, limited, spy)
        return seen["status"], seen["size"]

    def _declared_length(self, scope: Scope) -> int | None:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return None
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


async def _plain(send: Send, status: int, body: bytes) -> tuple[int, int]:
    return await _respond(send, status, body, b"text/plain; charset=utf-8")


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
