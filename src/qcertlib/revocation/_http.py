"""A small HTTP/1.1 client for OCSP POSTs over plain ``http://`` (asyncio streams).

Why: OCSP answers are small and a bulk check sends thousands of them to one
responder. httpx costs about 1 ms of CPU per request, which dominated
:meth:`~qcertlib.revocation.client.AsyncRevocationChecker.check_many`; this client
writes one request and reads one response over a kept-alive connection, and
nothing else. It is used only for ``http://`` OCSP POSTs made by a checker that
owns its connections; ``https://``, CRL downloads and caller-provided httpx
clients still go through httpx.

What it enforces (the caller also bounds the whole exchange with a timeout):

* the response head is at most :data:`MAX_HEAD` bytes; the body at most *limit*
  bytes whether announced by ``Content-Length``, sent chunked, or delimited by
  the end of the connection (HTTP/1.0 style);
* conflicting ``Content-Length`` headers, a ``Transfer-Encoding`` other than
  chunked, malformed status lines or chunk sizes are errors;
* interim ``1xx`` answers are skipped; a connection is reused only when the
  server keeps it (HTTP/1.1 without ``Connection: close``) and the body was read
  completely; a reused connection that the server closed while idle is retried
  once on a fresh connection (an OCSP POST is safe to repeat).
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

from qcertlib.errors import RevocationFetchError

__all__ = ["MAX_HEAD", "HttpConnection", "parse_http_url"]

MAX_HEAD = 16 * 1024
"""Largest accepted response head (status line and headers), in bytes."""

_HEX = b"0123456789abcdefABCDEF"


def _parse(url: str) -> tuple[str, int, str, bytes] | None:
    if not url.isascii() or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme.lower() != "http" or not host or "@" in parts.netloc:
        return None
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    netloc = parts.netloc
    return host, port if port is not None else 80, target, netloc.encode("ascii")


_PARSED: dict[str, tuple[str, int, str, bytes] | None] = {}


def parse_http_url(url: str) -> tuple[str, int, str, bytes] | None:
    """``(host, port, target, Host header)`` of a plain ``http://`` URL this client
    can use, or ``None`` (other schemes, user info, non-printable characters).
    Memoised: a bulk check asks the same responder URL many times."""
    try:
        return _PARSED[url]
    except KeyError:
        parsed = _parse(url)
        if len(_PARSED) > 256:
            _PARSED.clear()
        _PARSED[url] = parsed
        return parsed


class _Stale(Exception):
    """A reused connection was closed by the server before any answer byte."""


@dataclass(slots=True)
class HttpConnection:
    """One kept-alive connection (reopened when needed); not shared between tasks."""

    address: tuple[str, int] | None = None
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        """Drop the connection (if any)."""
        writer, self.reader, self.writer, self.address = self.writer, None, None, None
        if writer is not None:
            writer.close()

    async def aclose(self) -> None:
        """Drop the connection and wait until the socket is closed."""
        writer = self.writer
        self.close()
        if writer is not None:
            with suppress(OSError):
                await writer.wait_closed()

    async def post(self, url: str, body: bytes, headers: bytes, limit: int) -> bytes:
        """POST *body* to the ``http://`` *url*; the body of a ``200`` answer.

        *headers* are extra header lines, each ending with CRLF. Raises
        :class:`~qcertlib.errors.RevocationFetchError` on any failure (the
        connection is then closed).
        """
        parsed = parse_http_url(url)
        if parsed is None:
            raise RevocationFetchError(f"{url}: not a plain http:// URL")
        host, port, target, host_header = parsed
        request = b"".join(
            (
                b"POST ",
                target.encode("ascii"),
                b" HTTP/1.1\r\nHost: ",
                host_header,
                b"\r\n",
                headers,
                b"Content-Length: ",
                str(len(body)).encode("ascii"),
                b"\r\n\r\n",
                body,
            )
        )
        reused = self.writer is not None and self.address == (host, port)
        if not reused:
            self.close()
        try:
            try:
                return await self._exchange(host, port, request, url, limit, reused)
            except _Stale:
                self.close()
                return await self._exchange(host, port, request, url, limit, False)
        except RevocationFetchError:
            self.close()
            raise
        except _Stale:
            self.close()
            raise RevocationFetchError(f"{url}: the server closed the connection") from None
        except asyncio.IncompleteReadError:
            self.close()
            raise RevocationFetchError(f"{url}: the server closed the connection early") from None
        except asyncio.LimitOverrunError:
            self.close()
            raise RevocationFetchError(
                f"{url}: response head larger than {MAX_HEAD} bytes"
            ) from None
        except (OSError, ValueError) as exc:
            self.close()
            raise RevocationFetchError(f"{url}: {type(exc).__name__}: {exc}") from None
        except BaseException:  # cancellation / timeout: the connection is mid-exchange
            self.close()
            raise

    async def _exchange(
        self, host: str, port: int, request: bytes, url: str, limit: int, reused: bool
    ) -> bytes:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(host, port, limit=MAX_HEAD)
            self.address = (host, port)
        reader, writer = self.reader, self.writer
        assert reader is not None
        try:
            writer.write(request)
            await writer.drain()
            first = await reader.read(1)
        except (ConnectionResetError, BrokenPipeError):
            if reused:
                raise _Stale from None
            raise
        if not first:
            if reused:
                raise _Stale
            raise RevocationFetchError(f"{url}: the server closed the connection")
        while True:
            head = first + await reader.readuntil(b"\r\n\r\n")
            first = b""
            if len(head) > MAX_HEAD:
                raise asyncio.LimitOverrunError("head too large", 0)
            status, version, fields = _parse_head(head, url)
            if 100 <= status < 200 and status != 101:
                continue  # interim answer (100 Continue, 103 Early Hints)
            break
        keep = version == b"HTTP/1.1"
        connection = b",".join(fields.get(b"connection", [])).lower()
        if b"close" in connection:
            keep = False
        encodings = fields.get(b"transfer-encoding")
        lengths = {value.strip() for value in fields.get(b"content-length", [])}
        if status != 200:
            raise RevocationFetchError(f"{url}: HTTP status {status}")
        if encodings is not None:
            coding = b",".join(encodings).strip().lower()
            if coding != b"chunked":
                raise RevocationFetchError(f"{url}: unsupported transfer encoding")
            data = await _read_chunked(reader, url, limit)
        elif lengths:
            if len(lengths) != 1:
                raise RevocationFetchError(f"{url}: conflicting Content-Length headers")
            (declared,) = lengths
            if not declared.isdigit():
                raise RevocationFetchError(f"{url}: malformed Content-Length")
            size = int(declared)
            if size > limit:
                raise RevocationFetchError(
                    f"{url}: response larger than the limit of {limit} bytes"
                )
            data = await reader.readexactly(size)
        else:
            data = await reader.read(limit + 1)
            collected = bytearray(data)
            while data and len(collected) <= limit:
                data = await reader.read(limit + 1 - len(collected))
                collected += data
            if len(collected) > limit:
                raise RevocationFetchError(
                    f"{url}: response larger than the limit of {limit} bytes"
                )
            data = bytes(collected)
            keep = False
        if not keep:
            self.close()
        return data


def _parse_head(head: bytes, url: str) -> tuple[int, bytes, dict[bytes, list[bytes]]]:
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if (
        len(parts) < 2
        or parts[0] not in (b"HTTP/1.1", b"HTTP/1.0")
        or len(parts[1]) != 3
        or not parts[1].isdigit()
    ):
        raise RevocationFetchError(f"{url}: malformed HTTP response")
    fields: dict[bytes, list[bytes]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise RevocationFetchError(f"{url}: malformed HTTP header")
        fields.setdefault(name.lower(), []).append(value.strip())
    return int(parts[1]), parts[0], fields


async def _read_chunked(reader: asyncio.StreamReader, url: str, limit: int) -> bytes:
    data = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        size_text = line[:-2].split(b";", 1)[0].strip()
        if not size_text or len(size_text) > 8 or size_text.strip(_HEX):
            raise RevocationFetchError(f"{url}: malformed chunk size")
        size = int(size_text, 16)
        if size == 0:
            break
        if len(data) + size > limit:
            raise RevocationFetchError(f"{url}: response larger than the limit of {limit} bytes")
        data += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise RevocationFetchError(f"{url}: malformed chunk")
    trailer = 0
    while True:  # trailer fields, then the empty line
        line = await reader.readuntil(b"\r\n")
        trailer += len(line)
        if trailer > MAX_HEAD:
            raise asyncio.LimitOverrunError("trailer too large", 0)
        if line == b"\r\n":
            return bytes(data)
