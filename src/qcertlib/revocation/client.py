"""The checking client: the I/O edge of :mod:`qcertlib.revocation` (needs the ``http`` extra).

:func:`check` / :func:`acheck` decide the status of one certificate; :func:`check_many`
checks many at once. The order is: the cache, then OCSP (the AIA responder or an
explicit URL), then CRLs (the CRL distribution points or explicit CRLs/URLs).

* Every fetch has a timeout (``policy.timeout``, also bounding the whole body
  download) and a body-size limit (``policy.max_ocsp_size`` / ``max_crl_size``).
* Only ``http://`` and ``https://`` URLs are fetched. ``ldap://`` distribution
  points (common in Spanish certificates, e.g. FNMT and ACCV carry both) are
  skipped and the skip is recorded in :attr:`RevocationStatus.errors`; the HTTP
  point next to them is used.
* Soft-fail returns :attr:`Status.UNKNOWN` with the reasons; hard-fail raises
  :class:`~qcertlib.errors.RevocationUnavailable`. An OCSP ``unknown`` answer falls
  back to the CRL, and counts as undecided when no CRL decides.
* Verified OCSP answers are cached until their nextUpdate (or ``max_age``), CRLs
  until their nextUpdate; :class:`RevocationCache` can also keep the DER on disk.
* :func:`check_many` shares one connection pool, downloads each CRL once, and runs
  OCSP requests concurrently up to ``policy.concurrency``.

The DER that was checked is in :attr:`RevocationStatus.ocsp_response` /
:attr:`RevocationStatus.crls`, ready for pyHanko
(``ValidationContext(ocsps=[...], crls=[...])``) so a PAdES B-LT signature embeds
exactly what was checked.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TypeAlias

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from qcertlib._io import write_atomic
from qcertlib.errors import (
    RevocationError,
    RevocationFetchError,
    RevocationResponseError,
    RevocationUnavailable,
)
from qcertlib.revocation._http import HttpConnection, parse_http_url
from qcertlib.revocation._model import (
    CertStatus,
    FailMode,
    NoncePolicy,
    RevocationPolicy,
    RevocationStatus,
    Source,
    Status,
)
from qcertlib.revocation.crl import Crl, load_crl, verify_crl
from qcertlib.revocation.ocsp import (
    OcspResult,
    build_multi_request,
    build_request,
    issuer_key_hash,
    verify_response,
    verify_responses,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "AsyncRevocationChecker",
    "CrlInput",
    "RevocationCache",
    "RevocationChecker",
    "acheck",
    "check",
    "check_many",
    "crl_urls",
    "ocsp_urls",
]

CrlInput: TypeAlias = "bytes | Crl | str"
"""A CRL given explicitly: DER/PEM bytes, a loaded :class:`Crl`, or an http(s) URL."""

_OCSP_HEADERS = {
    "Content-Type": "application/ocsp-request",
    "Accept": "application/ocsp-response",
}
_OCSP_HEADER_LINES = b"".join(
    f"{name}: {value}\r\n".encode("ascii") for name, value in _OCSP_HEADERS.items()
)


def _httpx() -> ModuleType:
    try:
        import httpx
    except ImportError:  # pragma: no cover - depends on the installation
        raise RevocationFetchError(
            "fetching OCSP/CRL needs httpx: pip install 'qcertlib[http]'"
        ) from None
    return httpx


def ocsp_urls(cert: x509.Certificate) -> list[str]:
    """The OCSP responder URLs of the certificate's AIA extension (any scheme)."""
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [
        d.access_location.value
        for d in aia
        if d.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
    ]


def crl_urls(cert: x509.Certificate) -> list[str]:
    """The CRL distribution point URLs of the certificate (any scheme, in order)."""
    try:
        dps = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [
        name.value
        for dp in dps
        for name in (dp.full_name or ())
        if isinstance(name, x509.UniformResourceIdentifier)
    ]


def _is_http(url: str) -> bool:
    lower = url.lower()
    return lower.startswith(("http://", "https://"))


def _cache_file(directory: Path, kind: str, key: str) -> Path:
    return directory / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.der"


class RevocationCache:
    """Verified OCSP answers and CRLs, kept until their nextUpdate.

    In memory always; with *directory*, downloaded CRLs are also written there
    (mode 0600) and read back by later processes, which verify them again before
    use. OCSP answers stay in memory only (they are small and short-lived).
    Thread-safe; share one instance between checkers.
    """

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._ocsp: dict[tuple[str, int, bytes], OcspResult] = {}
        self._crls: dict[str, tuple[Crl, set[bytes]]] = {}
        self._lock = threading.Lock()

    def get_ocsp(self, key: tuple[str, int, bytes], at: datetime) -> OcspResult | None:
        """A cached OCSP result still fresh at *at*."""
        result = self._ocsp.get(key)
        if result is None or result.next_update is None or result.next_update <= at:
            return None
        return result

    def put_ocsp(self, key: tuple[str, int, bytes], result: OcspResult) -> None:
        """Remember a verified OCSP result (only if it has a nextUpdate)."""
        if result.next_update is not None:
            with self._lock:
                self._ocsp[key] = result

    def get_crl(self, url: str, at: datetime) -> tuple[Crl, set[bytes]] | None:
        """A cached CRL for *url* still current at *at*, with the issuers it verified for."""
        entry = self._crls.get(url)
        if entry is not None:
            if entry[0].next_update is not None and entry[0].next_update > at:
                return entry
            with self._lock:
                self._crls.pop(url, None)
        if self.directory is not None:
            path = _cache_file(self.directory, "crl", url)
            if path.exists():
                try:
                    crl = load_crl(path.read_bytes())
                except (RevocationError, OSError):
                    return None
                if crl.next_update is not None and crl.next_update > at:
                    entry = (crl, set())
                    with self._lock:
                        self._crls[url] = entry
                    return entry
        return None

    def put_crl(self, url: str, crl: Crl, verified_for: bytes) -> None:
        """Remember a CRL fetched from *url*, verified for the issuer key *verified_for*."""
        with self._lock:
            entry = self._crls.get(url)
            if entry is not None and entry[0] is crl:
                entry[1].add(verified_for)
            else:
                self._crls[url] = (crl, {verified_for})
        if self.directory is not None:
            write_atomic(_cache_file(self.directory, "crl", url), crl.der)

    def clear(self) -> None:
        """Forget everything held in memory (the disk copy stays)."""
        with self._lock:
            self._ocsp.clear()
            self._crls.clear()


def _issuer_id(issuer: x509.Certificate) -> bytes:
    return issuer_key_hash(issuer, "sha256")


@dataclass(slots=True)
class _Plan:
    """What to try for one certificate, and what went wrong so far."""

    cert: x509.Certificate
    issuer: x509.Certificate
    at: datetime
    ocsp: list[str]
    crls: list[bytes | Crl | str]
    errors: list[str]
    ocsp_unknown: OcspResult | None = None


def _plan(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    policy: RevocationPolicy,
    ocsp_url: str | None,
    crls: Sequence[CrlInput] | None,
    at: datetime | None,
) -> _Plan:
    now = at if at is not None else datetime.now(UTC)
    errors: list[str] = []
    ocsp: list[str] = []
    if policy.use_ocsp:
        for url in [ocsp_url] if ocsp_url else ocsp_urls(cert):
            if _is_http(url):
                ocsp.append(url)
            else:
                errors.append(f"ocsp {url}: skipped, only http(s) responders are queried")
        if not ocsp and not errors:
            errors.append("ocsp: the certificate names no OCSP responder")
    crl_list: list[bytes | Crl | str] = []
    if policy.use_crl:
        if crls:
            for given in crls:
                if isinstance(given, str) and not _is_http(given):
                    errors.append(f"crl {given}: skipped, only http(s) CRLs are fetched")
                else:
                    crl_list.append(given)
        else:
            for url in crl_urls(cert):
                if _is_http(url):
                    crl_list.append(url)
                else:
                    errors.append(
                        f"crl {url}: skipped, only http(s) distribution points are fetched"
                    )
            if not crl_list and not any(e.startswith("crl ") for e in errors):
                errors.append("crl: the certificate names no CRL distribution point")
    return _Plan(cert, issuer, now, ocsp, crl_list, errors)


def _ocsp_key(plan: _Plan, url: str) -> tuple[str, int, bytes]:
    return (url, plan.cert.serial_number, _issuer_id(plan.issuer))


def _from_ocsp(result: OcspResult) -> RevocationStatus:
    status = result.cert_status
    return RevocationStatus(
        status.status,
        Source.OCSP,
        status.revocation_time,
        status.reason,
        result.produced_at,
        result.this_update,
        result.next_update,
        ocsp_response=result.der,
    )


def _from_crl(status: CertStatus, crl: Crl, delta: Crl | None) -> RevocationStatus:
    crls = (crl.der,) if delta is None else (crl.der, delta.der)
    return RevocationStatus(
        status.status,
        Source.CRL,
        status.revocation_time,
        status.reason,
        None,
        crl.this_update,
        crl.next_update if delta is None else delta.next_update,
        crls=crls,
    )


def _verify_ocsp(
    plan: _Plan, der: bytes, nonce: bytes | None, policy: RevocationPolicy
) -> OcspResult:
    return verify_response(
        der,
        plan.cert,
        plan.issuer,
        nonce=nonce,
        nonce_policy=policy.nonce,
        at=plan.at,
        clock_skew=policy.clock_skew,
        max_age=policy.max_age,
    )


def _accept_ocsp(
    plan: _Plan, url: str, result: OcspResult, cache: RevocationCache | None
) -> RevocationStatus | None:
    if cache is not None:
        cache.put_ocsp(_ocsp_key(plan, url), result)
    if result.status is Status.UNKNOWN:
        plan.errors.append(f"ocsp {url}: the responder answered unknown")
        plan.ocsp_unknown = result
        return None
    return _from_ocsp(result)


def _verify_delta(plan: _Plan, base: Crl, delta: Crl, policy: RevocationPolicy) -> None:
    verify_crl(delta, plan.issuer, at=plan.at, clock_skew=policy.clock_skew)
    if not delta.is_delta:
        raise RevocationResponseError("the freshest-CRL URL did not serve a delta CRL")
    if base.number is None or delta.base_number is None or delta.base_number > base.number:
        raise RevocationResponseError("the delta CRL does not apply to this base CRL")


def _undecided(plan: _Plan, policy: RevocationPolicy) -> RevocationStatus:
    if policy.fail_mode is FailMode.HARD:
        raise RevocationUnavailable(
            "revocation status could not be decided: " + "; ".join(plan.errors)
        )
    unknown = plan.ocsp_unknown
    if unknown is not None:
        return RevocationStatus(
            Status.UNKNOWN,
            Source.OCSP,
            produced_at=unknown.produced_at,
            this_update=unknown.this_update,
            next_update=unknown.next_update,
            errors=tuple(plan.errors),
            ocsp_response=unknown.der,
        )
    return RevocationStatus(Status.UNKNOWN, errors=tuple(plan.errors))


def _limit_error(url: str, limit: int) -> RevocationFetchError:
    return RevocationFetchError(f"{url}: response larger than the limit of {limit} bytes")


def _status_error(url: str, code: int) -> RevocationFetchError:
    return RevocationFetchError(f"{url}: HTTP status {code}")


class RevocationChecker:
    """Synchronous checker with a reusable connection pool and a cache.

    Use as a context manager (or call :meth:`close`) to release connections.
    """

    def __init__(
        self,
        policy: RevocationPolicy | None = None,
        *,
        cache: RevocationCache | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.policy = policy if policy is not None else RevocationPolicy()
        self.cache = cache if cache is not None else RevocationCache()
        self._client = client
        self._own_client = client is None

    def _http(self) -> httpx.Client:
        if self._client is None:
            httpx = _httpx()
            self._client = httpx.Client(
                timeout=self.policy.timeout, follow_redirects=False, trust_env=False
            )
        assert self._client is not None
        return self._client

    def close(self) -> None:
        """Close the connection pool (if this checker created it)."""
        if self._client is not None and self._own_client:
            self._client.close()
        self._client = None

    def __enter__(self) -> RevocationChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fetch(self, method: str, url: str, body: bytes | None, limit: int) -> bytes:
        import httpx

        deadline = time.monotonic() + self.policy.timeout
        try:
            headers = _OCSP_HEADERS if body is not None else None
            with self._http().stream(method, url, content=body, headers=headers) as response:
                if response.status_code != 200:
                    raise _status_error(url, response.status_code)
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > limit:
                    raise _limit_error(url, limit)
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise _limit_error(url, limit)
                    if time.monotonic() > deadline:
                        raise RevocationFetchError(
                            f"{url}: timed out after {self.policy.timeout} s"
                        )
                return bytes(data)
        except httpx.TimeoutException:
            raise RevocationFetchError(f"{url}: timed out after {self.policy.timeout} s") from None
        except httpx.HTTPError as exc:
            raise RevocationFetchError(f"{url}: {type(exc).__name__}: {exc}") from None

    def _load_crl(self, plan: _Plan, item: bytes | Crl | str) -> Crl:
        policy = self.policy
        if isinstance(item, Crl):
            crl = item
        elif isinstance(item, bytes):
            crl = load_crl(item)
        else:
            entry = self.cache.get_crl(item, plan.at)
            issuer_id = _issuer_id(plan.issuer)
            if entry is not None and issuer_id in entry[1]:
                return entry[0]
            crl = (
                entry[0]
                if entry is not None
                else load_crl(self._fetch("GET", item, None, policy.max_crl_size))
            )
            verify_crl(crl, plan.issuer, at=plan.at, clock_skew=policy.clock_skew)
            self.cache.put_crl(item, crl, issuer_id)
            return crl
        verify_crl(crl, plan.issuer, at=plan.at, clock_skew=policy.clock_skew)
        return crl

    def check(
        self,
        cert: x509.Certificate,
        issuer: x509.Certificate,
        *,
        ocsp_url: str | None = None,
        crls: Sequence[CrlInput] | None = None,
        at: datetime | None = None,
    ) -> RevocationStatus:
        """The revocation status of *cert* (issued by *issuer*); see the module doc."""
        policy = self.policy
        plan = _plan(cert, issuer, policy, ocsp_url, crls, at)
        for url in plan.ocsp:
            key = _ocsp_key(plan, url)
            cached = (
                self.cache.get_ocsp(key, plan.at)
                if policy.nonce is not NoncePolicy.REQUIRED
                else None
            )
            if cached is not None and cached.status is not Status.UNKNOWN:
                return _from_ocsp(cached)
            try:
                request = build_request(
                    cert,
                    issuer,
                    hash_algorithm=policy.ocsp_hash,
                    with_nonce=policy.nonce is not NoncePolicy.OFF,
                )
                der = self._fetch("POST", url, request.der, policy.max_ocsp_size)
                result = _verify_ocsp(plan, der, request.nonce, policy)
            except RevocationError as exc:
                plan.errors.append(f"ocsp {url}: {exc}")
                continue
            decided = _accept_ocsp(plan, url, result, self.cache)
            if decided is not None:
                return decided
        for item in plan.crls:
            label = item if isinstance(item, str) else "given CRL"
            try:
                crl = self._load_crl(plan, item)
                delta = None
                for delta_url in crl.freshest_urls:
                    if _is_http(delta_url):
                        delta = self._load_crl(plan, delta_url)
                        _verify_delta(plan, crl, delta, policy)
                        break
                return _from_crl(crl.lookup(cert.serial_number, delta=delta), crl, delta)
            except RevocationError as exc:
                plan.errors.append(f"crl {label}: {exc}")
        return _undecided(plan, policy)


class AsyncRevocationChecker:
    """The asynchronous twin of :class:`RevocationChecker`, with :meth:`check_many`."""

    def __init__(
        self,
        policy: RevocationPolicy | None = None,
        *,
        cache: RevocationCache | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.policy = policy if policy is not None else RevocationPolicy()
        self.cache = cache if cache is not None else RevocationCache()
        self._client = client
        self._inflight: dict[str, asyncio.Task[Crl]] = {}
        self._slots: asyncio.Queue[httpx.AsyncClient] | None = None
        self._owned: list[httpx.AsyncClient] = []
        self._prefetched: dict[tuple[str, int, bytes], OcspResult] = {}
        self._raw: asyncio.Queue[HttpConnection] | None = None

    def _raw_slots(self) -> asyncio.Queue[HttpConnection]:
        """``concurrency`` kept-alive connections of the light OCSP transport (last in,
        first out: the warmest connection is reused first)."""
        if self._raw is None:
            queue: asyncio.Queue[HttpConnection] = asyncio.LifoQueue()
            for _ in range(self.policy.concurrency):
                queue.put_nowait(HttpConnection())
            self._raw = queue
        return self._raw

    def _make_slots(self) -> asyncio.Queue[httpx.AsyncClient]:
        """``concurrency`` HTTP slots: with our own clients, one single-connection
        client per slot (sharing one TLS context). One shared pool would make
        httpcore scan every idle connection on each request, which dominates the
        cost of bulk checks."""
        if self._slots is None:
            queue: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
            if self._client is not None:
                for _ in range(self.policy.concurrency):
                    queue.put_nowait(self._client)
            else:
                httpx = _httpx()
                import ssl

                import certifi

                context = ssl.create_default_context(cafile=certifi.where())
                limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
                for _ in range(self.policy.concurrency):
                    client = httpx.AsyncClient(
                        timeout=self.policy.timeout,
                        follow_redirects=False,
                        trust_env=False,
                        limits=limits,
                        verify=context,
                    )
                    self._owned.append(client)
                    queue.put_nowait(client)
            self._slots = queue
        return self._slots

    async def aclose(self) -> None:
        """Close the connections this checker opened (a client passed in stays open)."""
        owned, self._owned = self._owned, []
        for client in owned:
            await client.aclose()
        self._slots = None
        raw, self._raw = self._raw, None
        while raw is not None and not raw.empty():
            await raw.get_nowait().aclose()

    async def __aenter__(self) -> AsyncRevocationChecker:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _fetch(self, method: str, url: str, body: bytes | None, limit: int) -> bytes:
        if body is not None and self._client is None and parse_http_url(url) is not None:
            return await self._post_light(url, body, limit)
        import httpx

        slots = self._make_slots()
        client = await slots.get()
        try:
            async with asyncio.timeout(self.policy.timeout):
                headers = _OCSP_HEADERS if body is not None else None
                async with client.stream(method, url, content=body, headers=headers) as response:
                    if response.status_code != 200:
                        raise _status_error(url, response.status_code)
                    declared = response.headers.get("content-length")
                    if declared is not None and declared.isdigit() and int(declared) > limit:
                        raise _limit_error(url, limit)
                    data = bytearray()
                    async for chunk in response.aiter_bytes():
                        data += chunk
                        if len(data) > limit:
                            raise _limit_error(url, limit)
                    return bytes(data)
        except (TimeoutError, httpx.TimeoutException):
            raise RevocationFetchError(f"{url}: timed out after {self.policy.timeout} s") from None
        except httpx.HTTPError as exc:
            raise RevocationFetchError(f"{url}: {type(exc).__name__}: {exc}") from None
        finally:
            slots.put_nowait(client)

    async def _post_light(self, url: str, body: bytes, limit: int) -> bytes:
        """An ``http://`` OCSP POST over the light transport (see ``_http``)."""
        slots = self._raw_slots()
        connection = await slots.get()
        try:
            async with asyncio.timeout(self.policy.timeout):
                return await connection.post(url, body, _OCSP_HEADER_LINES, limit)
        except TimeoutError:
            raise RevocationFetchError(f"{url}: timed out after {self.policy.timeout} s") from None
        finally:
            slots.put_nowait(connection)

    async def _download_crl(self, url: str) -> Crl:
        der = await self._fetch("GET", url, None, self.policy.max_crl_size)
        return load_crl(der)

    async def _load_crl(self, plan: _Plan, item: bytes | Crl | str) -> Crl:
        policy = self.policy
        if isinstance(item, Crl):
            crl = item
        elif isinstance(item, bytes):
            crl = load_crl(item)
        else:
            issuer_id = _issuer_id(plan.issuer)
            entry = self.cache.get_crl(item, plan.at)
            if entry is not None and issuer_id in entry[1]:
                return entry[0]
            if entry is not None:
                crl = entry[0]
            else:
                task = self._inflight.get(item)
                if task is None:
                    task = asyncio.ensure_future(self._download_crl(item))
                    self._inflight[item] = task
                try:
                    crl = await asyncio.shield(task)
                finally:
                    if task.done():
                        self._inflight.pop(item, None)
            verify_crl(crl, plan.issuer, at=plan.at, clock_skew=policy.clock_skew)
            self.cache.put_crl(item, crl, issuer_id)
            return crl
        verify_crl(crl, plan.issuer, at=plan.at, clock_skew=policy.clock_skew)
        return crl

    async def _ocsp_once(self, plan: _Plan, url: str) -> OcspResult:
        policy = self.policy
        request = build_request(
            plan.cert,
            plan.issuer,
            hash_algorithm=policy.ocsp_hash,
            with_nonce=policy.nonce is not NoncePolicy.OFF,
        )
        der = await self._fetch("POST", url, request.der, policy.max_ocsp_size)
        return _verify_ocsp(plan, der, request.nonce, policy)

    async def check(
        self,
        cert: x509.Certificate,
        issuer: x509.Certificate,
        *,
        ocsp_url: str | None = None,
        crls: Sequence[CrlInput] | None = None,
        at: datetime | None = None,
    ) -> RevocationStatus:
        """The revocation status of *cert* (issued by *issuer*); see the module doc."""
        policy = self.policy
        plan = _plan(cert, issuer, policy, ocsp_url, crls, at)
        for url in plan.ocsp:
            key = _ocsp_key(plan, url)
            prefetched = self._prefetched.pop(key, None)
            if prefetched is not None:
                decided = _accept_ocsp(plan, url, prefetched, self.cache)
                if decided is not None:
                    return decided
                continue
            cached = (
                self.cache.get_ocsp(key, plan.at)
                if policy.nonce is not NoncePolicy.REQUIRED
                else None
            )
            if cached is not None and cached.status is not Status.UNKNOWN:
                return _from_ocsp(cached)
            try:
                result = await self._ocsp_once(plan, url)
            except RevocationError as exc:
                plan.errors.append(f"ocsp {url}: {exc}")
                continue
            decided = _accept_ocsp(plan, url, result, self.cache)
            if decided is not None:
                return decided
        for item in plan.crls:
            label = item if isinstance(item, str) else "given CRL"
            try:
                crl = await self._load_crl(plan, item)
                delta = None
                for delta_url in crl.freshest_urls:
                    if _is_http(delta_url):
                        delta = await self._load_crl(plan, delta_url)
                        _verify_delta(plan, crl, delta, policy)
                        break
                return _from_crl(crl.lookup(cert.serial_number, delta=delta), crl, delta)
            except RevocationError as exc:
                plan.errors.append(f"crl {label}: {exc}")
        return _undecided(plan, policy)

    async def check_many(
        self,
        items: Iterable[tuple[x509.Certificate, x509.Certificate]],
        *,
        at: datetime | None = None,
    ) -> list[RevocationStatus | RevocationError]:
        """Check many ``(cert, issuer)`` pairs concurrently, results in input order.

        Under hard-fail an undecidable certificate yields its
        :class:`~qcertlib.errors.RevocationUnavailable` in the list instead of raising,
        so one bad certificate does not hide the others.
        """

        pairs = list(items)
        if self.policy.ocsp_batch > 1:
            await self._prefetch_batches(pairs, at)

        async def one(
            cert: x509.Certificate, issuer: x509.Certificate
        ) -> RevocationStatus | RevocationError:
            try:
                return await self.check(cert, issuer, at=at)
            except RevocationError as exc:
                return exc

        try:
            return list(await asyncio.gather(*(one(c, i) for c, i in pairs)))
        finally:
            self._prefetched.clear()

    async def _prefetch_batches(
        self, pairs: list[tuple[x509.Certificate, x509.Certificate]], at: datetime | None
    ) -> None:
        """Ask for several certificates per OCSP request; results feed :meth:`check`.

        Certificates are grouped by (first http OCSP URL, issuer). A batch that fails
        as a whole leaves its certificates to the one-by-one path.
        """
        policy = self.policy
        groups: dict[tuple[str, bytes], list[_Plan]] = {}
        for cert, issuer in pairs:
            plan = _plan(cert, issuer, policy, None, None, at)
            if plan.ocsp:
                groups.setdefault((plan.ocsp[0], _issuer_id(issuer)), []).append(plan)

        async def batch(url: str, plans: list[_Plan]) -> None:
            issuer = plans[0].issuer
            certs = [p.cert for p in plans]
            der, nonce = build_multi_request(
                certs, issuer, with_nonce=policy.nonce is not NoncePolicy.OFF
            )
            try:
                body = await self._fetch("POST", url, der, policy.max_ocsp_size)
                results = verify_responses(
                    body,
                    certs,
                    issuer,
                    nonce=nonce,
                    nonce_policy=policy.nonce,
                    at=plans[0].at,
                    clock_skew=policy.clock_skew,
                    max_age=policy.max_age,
                )
            except RevocationError:
                return
            for plan, result in zip(plans, results, strict=True):
                if isinstance(result, OcspResult):
                    self._prefetched[_ocsp_key(plan, url)] = result

        jobs = []
        for (url, _issuer), plans in groups.items():
            for start in range(0, len(plans), policy.ocsp_batch):
                jobs.append(batch(url, plans[start : start + policy.ocsp_batch]))
        await asyncio.gather(*jobs)


def check(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    policy: RevocationPolicy | None = None,
    *,
    ocsp_url: str | None = None,
    crls: Sequence[CrlInput] | None = None,
    cache: RevocationCache | None = None,
    at: datetime | None = None,
) -> RevocationStatus:
    """Check one certificate (OCSP, then CRL); see the module documentation."""
    with RevocationChecker(policy, cache=cache) as checker:
        return checker.check(cert, issuer, ocsp_url=ocsp_url, crls=crls, at=at)


async def acheck(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    policy: RevocationPolicy | None = None,
    *,
    ocsp_url: str | None = None,
    crls: Sequence[CrlInput] | None = None,
    cache: RevocationCache | None = None,
    at: datetime | None = None,
) -> RevocationStatus:
    """The asynchronous twin of :func:`check`."""
    async with AsyncRevocationChecker(policy, cache=cache) as checker:
        return await checker.check(cert, issuer, ocsp_url=ocsp_url, crls=crls, at=at)


def check_many(
    items: Iterable[tuple[x509.Certificate, x509.Certificate]],
    policy: RevocationPolicy | None = None,
    *,
    cache: RevocationCache | None = None,
    at: datetime | None = None,
) -> list[RevocationStatus | RevocationError]:
    """Check many ``(cert, issuer)`` pairs (blocking; runs its own event loop).

    See :meth:`AsyncRevocationChecker.check_many`; call that one from async code.
    """

    async def run() -> list[RevocationStatus | RevocationError]:
        async with AsyncRevocationChecker(policy, cache=cache) as checker:
            return await checker.check_many(items, at=at)

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(run())


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (the ``server`` extra brings it), else
    the default one: the many small socket reads and writes of a bulk check cost less
    there (measured: about 15 % more certificates per second over OCSP)."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory
