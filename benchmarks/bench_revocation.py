"""Revocation benchmarks, printed side by side from one run (127.0.0.1 only, bounded).

1. OCSP responder throughput: ``qcert serve`` vs ``openssl ocsp -index … -multi 2``,
   driven by the same small async load generator (httpx, N requests, fixed
   concurrency), with pre-produced responses (requests without nonce) and with a
   fresh nonce per request (every response signed on the spot).
2. A 100,000-entry CRL: load + verify time, then 10,000 certificates checked.
3. 1,000 certificates over OCSP against the local responder: ``check_many`` vs a
   sequential loop of pyhanko-certvalidator validations (one ValidationContext per
   certificate, fetching OCSP, shared aiohttp fetcher).

Run: ``.venv/bin/python benchmarks/bench_revocation.py [--quick]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from tests.revocation.pki import GeneratedPki, big_crl, make_pki  # noqa: E402
from tests.revocation.servers import free_port  # noqa: E402

from qcertlib.revocation import (  # noqa: E402
    RevocationPolicy,
    RevocationStatus,
    Status,
    check_many,
    load_crl,
)
from qcertlib.revocation.client import RevocationChecker  # noqa: E402
from qcertlib.revocation.crl import verify_crl  # noqa: E402
from qcertlib.revocation.ocsp import build_request  # noqa: E402

QUICK = "--quick" in sys.argv
LOAD_REQUESTS = 1500 if QUICK else 4000
RAW_REQUESTS = 3000 if QUICK else 10000
CONCURRENCY = 32
BULK = 200 if QUICK else 1000
CRL_ENTRIES = 100_000
CRL_CHECKS = 10_000


def _wait_ocsp(url: str, request: bytes, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited early")
        try:
            if httpx.post(url, content=request, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server for {url} did not come up")


@contextmanager
def process(argv: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server and stop it, with its forked children, afterwards.

    ``openssl ocsp -multi`` makes itself a process-group leader (it refuses to run
    as a session leader) and forks workers that outlive a signal to the parent, so
    the group is signalled too.
    """
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)  # only exists when the child made its own group
            with suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue


async def load(url: str, requests: list[bytes], total: int, concurrency: int) -> tuple[float, int]:
    """POST *total* requests (cycling *requests*) with *concurrency* workers.

    Each worker has its own ``httpx.AsyncClient`` with one connection: one shared
    pool of 32 connections costs httpcore a scan of every idle connection per
    request, which penalises servers that keep connections alive. Returns
    (requests per second, failures); a failure is a non-200 answer or an OCSP
    response whose status is not ``successful``.
    """
    counter = iter(range(total))
    failures = 0
    headers = {"Content-Type": "application/ocsp-request"}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        for index in counter:
            body = requests[index % len(requests)]
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError:
                failures += 1
                continue
            # OCSPResponse ::= SEQUENCE { ENUMERATED 0 (successful), ... }
            if response.status_code != 200 or b"\x0a\x01\x00" not in response.content[:8]:
                failures += 1

    clients = [
        httpx.AsyncClient(limits=limits, timeout=10, trust_env=False) for _ in range(concurrency)
    ]
    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in clients))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    return total / elapsed, failures


async def raw_load(
    port: int, path: str, requests: list[bytes], total: int, concurrency: int
) -> tuple[float, int]:
    """The same load over plain asyncio streams (HTTP/1.1 keep-alive when the server
    keeps the connection, a new connection when it closes it, as openssl does).

    httpx costs the client ~1 ms of CPU per request, which caps what one client
    process can offer; this generator shows the servers' own capacity.
    """
    counter = iter(range(total))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        for index in counter:
            body = requests[index % len(requests)]
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            head = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/ocsp-request\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode()
            writer.write(head + body)
            try:
                header = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                length = 0
                keep = header.startswith(b"HTTP/1.1")
                for line in header.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                    elif name.strip().lower() == b"connection" and b"close" in value.lower():
                        keep = False
                payload = await asyncio.wait_for(reader.readexactly(length), 10)
                if b" 200 " not in header[:16] or b"\x0a\x01\x00" not in payload[:8]:
                    failures += 1
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                failures += 1
                keep = False
            if not keep:
                writer.close()
                with suppress(OSError):
                    await writer.wait_closed()
                reader = writer = None
        if writer is not None:
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started), failures


def _wrk_script(bodies: list[bytes], path: str) -> str:
    """A wrk Lua script POSTing *bodies* in turn (decimal escapes: binary-safe). The
    requests are formatted once, in ``init``: formatting one per request costs wrk
    more CPU than the faster server spends answering it."""
    items = ",\n".join('"' + "".join(f"\\{b:03d}" for b in body) + '"' for body in bodies)
    return (
        f"local bodies = {{\n{items}\n}}\n"
        "local requests = {}\n"
        "local n = 0\n"
        "init = function(args)\n"
        '  local headers = {["Content-Type"] = "application/ocsp-request"}\n'
        "  for i, body in ipairs(bodies) do\n"
        f'    requests[i] = wrk.format("POST", "{path}", headers, body)\n'
        "  end\n"
        "end\n"
        "request = function()\n"
        "  n = n + 1\n"
        "  return requests[(n % #requests) + 1]\n"
        "end\n"
    )


def wrk_load(wrk: str, url: str, script: Path, seconds: int) -> tuple[float, int]:
    """(requests/s, non-200 answers + socket errors) of one ``wrk`` run (one thread,
    CONCURRENCY connections). wrk is written in C and costs the shared 2 cores far less
    than a Python generator; it does not look into the bodies (the Python generators
    above do)."""
    out = subprocess.run(
        [wrk, "-t1", f"-c{CONCURRENCY}", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    rate, failures = 0.0, 0
    for line in out.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            rate = float(words[1])
        elif line.strip().startswith("Non-2xx"):
            failures += int(words[-1])
        elif line.strip().startswith("Socket errors:"):
            # Socket errors: connect 0, read 0, write 0, timeout 0
            failures += sum(int(w.rstrip(",")) for w in words[3::2])
    return rate, failures


def bench_responders_wrk(pki: GeneratedPki, our_port: int, wrk: str, tmp: Path) -> None:
    """The same comparison driven by wrk, for both servers of ``qcert serve`` (uvicorn,
    granian) with one and two worker processes, against ``openssl ocsp -multi 2``.

    ``openssl ocsp -multi`` stops answering after a wrk run (its workers spin on the
    connections wrk leaves half-closed), so every openssl figure comes from a freshly
    started responder.
    """
    seconds = 4 if QUICK else 8
    print(
        f"\n## 1b. OCSP responder throughput, wrk (requests/s; {seconds} s per run, "
        f"{CONCURRENCY} connections, one wrk thread)"
    )
    leaves = pki.leaves[:200]
    scripts: dict[str, tuple[Path, bytes]] = {}
    for label, bodies in (
        (
            "no nonce (cacheable)",
            [build_request(leaf, pki.ca, with_nonce=False).der for leaf in leaves],
        ),
        ("fresh nonce", [build_request(leaf, pki.ca).der for _ in range(4) for leaf in leaves]),
    ):
        script = tmp / f"wrk-{len(scripts)}.lua"
        script.write_text(_wrk_script(bodies, "/ocsp"))
        scripts[label] = (script, bodies[0])
    # (label, extra qcert serve arguments); the first one is the already running server
    servers: list[tuple[str, list[str]]] = [
        ("uvicorn x1", []),
        ("uvicorn x2", ["--workers", "2"]),
        ("granian x1", ["--server", "granian"]),
        ("granian x2", ["--server", "granian", "--workers", "2"]),
    ]
    rates: dict[tuple[str, str], tuple[float, int]] = {}
    for name, extra in servers:
        port = our_port if not extra else free_port()
        with contextlib.ExitStack() as stack:
            if extra:
                proc = stack.enter_context(process([*_serve_argv(pki, port), *extra]))
                _wait_ocsp(f"http://127.0.0.1:{port}/ocsp", scripts["fresh nonce"][1], proc)
                time.sleep(1)  # every worker up
            for label, (script, _probe) in scripts.items():
                rates[name, label] = wrk_load(wrk, f"http://127.0.0.1:{port}/ocsp", script, seconds)
    for label, (script, probe) in scripts.items():
        ssl_port = free_port()
        with process(_openssl_argv(pki, ssl_port)) as ssl_proc:
            _wait_ocsp(f"http://127.0.0.1:{ssl_port}/", probe, ssl_proc)
            rates["openssl", label] = wrk_load(
                wrk, f"http://127.0.0.1:{ssl_port}/ocsp", script, seconds
            )
    names = [name for name, _ in servers]
    print(
        "qcert serve --server uvicorn|granian with x1|x2 worker processes; "
        "ratio: the best of them (at most 2 worker processes) / openssl -multi 2"
    )
    print(
        f"{'requests':<22}" + "".join(f"{n:>12}" for n in names) + f"{'openssl x2':>12}{'ratio':>8}"
    )
    for label in scripts:
        ours = [rates[name, label][0] for name in names]
        ssl = rates["openssl", label][0]
        print(
            f"{label:<22}"
            + "".join(f"{r:>12,.0f}" for r in ours)
            + f"{ssl:>12,.0f}{max(ours) / ssl:>7.1f}x"
        )
    failures = sum(f for _, f in rates.values())
    print(f"failures (non-200 answers, socket errors), all runs: {failures}")


def _openssl_argv(pki: GeneratedPki, port: int) -> list[str]:
    openssl = shutil.which("openssl")
    assert openssl is not None
    # openssl ocsp listens on all interfaces (no bind option); it gets only loopback traffic
    return [
        openssl,
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
        "-ndays",
        "1",
        "-multi",
        "2",
    ]


def _serve_argv(pki: GeneratedPki, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "qcertlib",
        "serve",
        str(pki.directory),
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def bench_responders(pki: GeneratedPki, our_port: int) -> None:
    print(
        "\n## 1. OCSP responder throughput (requests/s; "
        f"{LOAD_REQUESTS} requests, concurrency {CONCURRENCY}, one client process)"
    )
    leaves = pki.leaves[:200]
    no_nonce = [build_request(leaf, pki.ca, with_nonce=False).der for leaf in leaves]
    with_nonce = [build_request(leaf, pki.ca).der for _ in range(4) for leaf in leaves]
    ssl_port = free_port()
    rows = []
    ours = f"http://127.0.0.1:{our_port}/ocsp"
    theirs = f"http://127.0.0.1:{ssl_port}/"
    ssl_argv = _openssl_argv(pki, ssl_port)
    with process(ssl_argv) as ssl_proc:
        _wait_ocsp(theirs, no_nonce[0], ssl_proc)
        for label, requests in (("no nonce (cacheable)", no_nonce), ("fresh nonce", with_nonce)):
            ours_rate, ours_fail = asyncio.run(load(ours, requests, LOAD_REQUESTS, CONCURRENCY))
            ssl_rate, ssl_fail = asyncio.run(load(theirs, requests, LOAD_REQUESTS, CONCURRENCY))
            rows.append(("httpx, " + label, ours_rate, ours_fail, ssl_rate, ssl_fail))
        for label, requests in (("no nonce (cacheable)", no_nonce), ("fresh nonce", with_nonce)):
            ours_rate, ours_fail = asyncio.run(
                raw_load(our_port, "/ocsp", requests, RAW_REQUESTS, CONCURRENCY)
            )
            ssl_rate, ssl_fail = asyncio.run(
                raw_load(ssl_port, "/", requests, RAW_REQUESTS, CONCURRENCY)
            )
            rows.append(("raw asyncio, " + label, ours_rate, ours_fail, ssl_rate, ssl_fail))
    print(
        f"{'generator, requests':<36}{'qcert serve':>12}{'openssl -multi 2':>18}{'ratio':>8}"
        "  failures"
    )
    for label, ours_rate, ours_fail, ssl_rate, ssl_fail in rows:
        print(
            f"{label:<36}{ours_rate:>12,.0f}{ssl_rate:>18,.0f}{ours_rate / ssl_rate:>7.1f}x"
            f"  {ours_fail}/{ssl_fail}"
        )


def bench_crl(pki: GeneratedPki) -> None:
    print(f"\n## 2. {CRL_ENTRIES:,}-entry CRL, {CRL_CHECKS:,} certificates")
    rng = random.Random(1)
    serials = [rng.getrandbits(127) for _ in range(CRL_ENTRIES)]
    der = big_crl(pki.ca, pki.ca_key, serials)
    loads = []
    for _ in range(3):
        started = time.perf_counter()
        crl = load_crl(der)
        verify_crl(crl, pki.ca)
        loads.append(time.perf_counter() - started)
    print(
        f"CRL size {len(der) / 1e6:.1f} MB; load + index + verify: best {min(loads):.3f} s, "
        f"worst {max(loads):.3f} s (goal < 1 s)"
    )
    # 10,000 certificates: 1,000 of them on the CRL
    template = pki.leaves[0]
    key = pki.ca_key.public_key()
    certs = []
    for index in range(CRL_CHECKS):
        serial = serials[index * 7] if index % 10 == 0 else rng.getrandbits(127)
        leaf = (
            x509.CertificateBuilder()
            .subject_name(template.subject)
            .issuer_name(pki.ca.subject)
            .public_key(key)
            .serial_number(serial)
            .not_valid_before(template.not_valid_before_utc)
            .not_valid_after(template.not_valid_after_utc)
            .sign(pki.ca_key, hashes.SHA256())
        )
        certs.append(leaf)
    started = time.perf_counter()
    hits = sum(crl.lookup(c.serial_number).status is Status.REVOKED for c in certs)
    lookup_rate = CRL_CHECKS / (time.perf_counter() - started)
    policy = RevocationPolicy(use_ocsp=False)
    with RevocationChecker(policy) as checker:
        started = time.perf_counter()
        full = [checker.check(c, pki.ca, crls=[crl]) for c in certs]
        check_rate = CRL_CHECKS / (time.perf_counter() - started)
    assert hits == CRL_CHECKS // 10
    assert sum(r.status is Status.REVOKED for r in full) == hits
    raw = x509.load_der_x509_crl(der)
    started = time.perf_counter()
    for c in certs[:2000]:
        raw.get_revoked_certificate_by_serial_number(c.serial_number)
    baseline = 2000 / (time.perf_counter() - started)
    print(f"{'lookup':<44}{'checks/s':>12}")
    print(f"{'Crl.lookup (index)':<44}{lookup_rate:>12,.0f}")
    print(
        f"{'RevocationChecker.check(cert, crls=[crl])':<44}{check_rate:>12,.0f}  (goal >= 50,000)"
    )
    print(f"{'cryptography get_revoked_..._by_serial_number':<44}{baseline:>12,.0f}  (baseline)")


async def _certvalidator_loop(
    pki: GeneratedPki, leaves: list[x509.Certificate]
) -> tuple[float, int]:
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import RevokedError
    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

    def conv(cert: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    root, ca = conv(pki.root), conv(pki.ca)
    revoked = 0
    async with AIOHttpFetcherBackend() as fetchers:
        started = time.perf_counter()
        for leaf in leaves:
            context = ValidationContext(
                trust_roots=[root],
                other_certs=[ca],
                fetchers=fetchers,
                allow_fetching=True,
                revocation_mode="hard-fail",
            )
            validator = CertificateValidator(
                conv(leaf), intermediate_certs=[ca], validation_context=context
            )
            try:
                await validator.async_validate_usage(set())  # type: ignore[no-untyped-call]  # pyhanko-certvalidator is untyped here
            except RevokedError:
                revoked += 1
        elapsed = time.perf_counter() - started
    return len(leaves) / elapsed, revoked


def bench_bulk(pki: GeneratedPki) -> None:
    leaves = pki.leaves[:BULK]
    print(f"\n## 3. {len(leaves):,} certificates over OCSP against the local qcert serve")
    rows = []
    default = RevocationPolicy(use_crl=False, concurrency=8)
    for label, policy in (
        ("check_many (nonce, concurrency 8), first run", default),
        ("check_many (nonce, concurrency 8), again", default),
        (
            "check_many (nonce, concurrency 4, 20 per request)",
            RevocationPolicy(use_crl=False, concurrency=4, ocsp_batch=20),
        ),
    ):
        started = time.perf_counter()
        results = check_many([(leaf, pki.ca) for leaf in leaves], policy)
        rate = len(leaves) / (time.perf_counter() - started)
        revoked = sum(
            isinstance(r, RevocationStatus) and r.status is Status.REVOKED for r in results
        )
        undecided = sum(not isinstance(r, RevocationStatus) or not r.decided for r in results)
        rows.append((label, rate, revoked, undecided))
    theirs, their_revoked = asyncio.run(_certvalidator_loop(pki, leaves))
    print(f"{'method':<52}{'certs/s':>10}  revoked  undecided")
    for label, rate, revoked, undecided in rows:
        print(f"{label:<52}{rate:>10,.0f}  {revoked:>7}  {undecided:>9}  {rate / theirs:5.1f}x")
    label = "pyhanko-certvalidator, sequential validations"
    print(f"{label:<52}{theirs:>10,.1f}  {their_revoked:>7}  (baseline; goal >= 20x)")


def _load() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews every figure."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        pki = make_pki(Path(tmp) / "pki", base_url=f"http://127.0.0.1:{port}", leaves=BULK)
        for index in range(0, BULK, 50):
            pki.revoked[pki.leaves[index].serial_number] = (
                pki.leaves[index].not_valid_before_utc,
                x509.ReasonFlags.key_compromise,
            )
        pki.write_index()
        print(
            f"# revocation benchmarks ({os.cpu_count()} cores; {BULK} leaves, "
            f"{len(pki.revoked)} revoked; load average {_load()})"
        )
        with process(_serve_argv(pki, port)) as ours:
            _wait_ocsp(
                f"http://127.0.0.1:{port}/ocsp", build_request(pki.leaves[0], pki.ca).der, ours
            )
            bench_responders(pki, port)
            wrk = shutil.which("wrk")
            if wrk is not None:
                bench_responders_wrk(pki, port, wrk, Path(tmp))
            else:
                print("\n## 1b. skipped: wrk is not installed (apt-get install wrk)")
            bench_bulk(pki)
        bench_crl(pki)
    print(f"\ntotal {time.perf_counter() - started:.0f} s; load average {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
