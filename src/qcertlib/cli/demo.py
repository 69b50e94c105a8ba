"""``qcert demo``: the whole story, end to end, on a fresh test PKI.

1. Spanish identifiers (NIF, CIF) and what they say about their holder.
2. A test PKI (root, issuing CA, OCSP and TSA signers) with a citizen, a citizen on a
   card (QSCD), an e-Organ seal medio and alto, and one revoked certificate.
3. Each certificate linted against its profile and inspected (@firma class, QSCD, ...).
4. The citizen's PKCS#12 download, protected by a PIN, read back.
5. ``qcert serve`` on 127.0.0.1: OCSP and CRL checks; a revocation is visible at once.
6. A PDF, an XML and a blob signed (citizen and seal), timestamped by the local TSA,
   and validated.

Every step checks its own result: the exit status is 0 only if every step did
what the story says. Files are kept in ``--dir`` (default: a new temporary folder).
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from qcertlib.errors import QcertError

__all__ = ["demo"]

_PIN = "demo-1234"


@dataclass
class _Story:
    console: Console
    failures: list[str] = field(default_factory=list)

    def step(self, title: str) -> None:
        self.console.rule(f"[bold]{title}")

    def check(self, ok: bool, what: str) -> None:
        mark = "[green]ok[/green]" if ok else "[red]FAILED[/red]"
        self.console.print(f"  {mark}  {what}")
        if not ok:
            self.failures.append(what)

    def attempt(self, what: str, action: Callable[[], None]) -> None:
        """Run one step; a QcertError or a missing optional dependency fails it, not the demo."""
        try:
            action()
        except ImportError as exc:
            self.check(
                False, f"{what}: missing optional dependency ({exc.name}); install qcertlib[all]"
            )
        except QcertError as exc:
            self.check(False, f"{what}: {exc}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _serving(directory: Path, port: int) -> Iterator[str]:
    """Run the PKI's HTTP services (OCSP, CRL, CA files, TSA) on 127.0.0.1 in a thread."""
    import uvicorn

    from qcertlib.services import create_app, load_directory

    app = create_app(load_directory(directory))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="qcert-demo-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise click.ClickException(f"the demo server did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing *text* (ASCII), with a correct cross-reference table."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 18 Tf 72 720 Td ({safe}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _identifiers(story: _Story) -> None:
    from qcertlib.identifiers import legal_person_identifier, parse_spanish_id

    story.step("1. Spanish identifiers")
    citizen = parse_spanish_id("12345678-z")
    body = parse_spanish_id("S0733002J")
    story.console.print(f"  12345678-z -> {citizen.value} ({citizen.kind.value})")
    entity = body.entity_kind.description if body.entity_kind else "?"
    story.console.print(
        f"  S0733002J  -> {body.kind.value} ({entity}); public body: {body.is_public_body}; "
        f"ETSI: {legal_person_identifier(body.value)}"
    )
    story.check(citizen.is_natural_person and body.is_public_body, "NIF and CIF understood")
    try:
        parse_spanish_id("12345678A")
        story.check(False, "a wrong check letter is refused")
    except QcertError as exc:
        story.check(True, f"a wrong check letter is refused: {exc}")


def _pki(story: _Story, directory: Path, base_url: str) -> Any:
    from qcertlib.testing import TestPKI

    story.step("2. A test PKI")
    pki = TestPKI.create(directory / "pki", base_url=base_url)
    story.console.print(f"  PKI in {pki.directory} (test PKI: keys are not encrypted)")
    story.console.print(f"  root:        {pki.root.subject.rfc4514_string()}")
    story.console.print(f"  issuing CA:  {pki.issuing_ca.subject.rfc4514_string()}")
    story.check(len(pki.credentials) == 5, "5 certificates issued through their profiles")
    return pki


def _lint_and_inspect(story: _Story, pki: Any) -> None:
    from qcertlib.profiles import inspect, lint

    story.step("3. Lint against the profile, and inspect")
    table = Table("certificate", "profile", "kind", "qualified", "QSCD", "@firma", "lint")
    all_ok = True
    for cred in pki.credentials:
        report = lint(cred.certificate, cred.profile)
        summary = inspect(cred.certificate)
        all_ok &= report.ok
        table.add_row(
            cred.name,
            cred.profile,
            summary.kind.value,
            str(summary.qualified),
            str(summary.qscd),
            str(summary.afirma_class),
            "ok" if report.ok else f"{len(report.errors)} errors",
        )
    story.console.print(table)
    story.check(all_ok, "every certificate conforms to its profile (no ERROR/FATAL)")


def _pkcs12(story: _Story, pki: Any, directory: Path) -> None:
    from qcertlib.errors import Pkcs12PasswordError
    from qcertlib.pkcs12 import KeyStore, inspect_pkcs12, load_pkcs12, write_pkcs12

    story.step("4. The citizen's PKCS#12 download")
    cred = pki.citizen
    path = write_pkcs12(
        directory / "citizen.p12",
        KeyStore.single(cred.private_key, cred.certificate, cred.chain, friendly_name="citizen"),
        _PIN,
    )
    info = inspect_pkcs12(path.read_bytes())
    story.console.print(f"  {path} (mode {path.stat().st_mode & 0o777:o}); {info.mac}")
    store = load_pkcs12(path.read_bytes(), _PIN)
    story.check(store.key.certificate == cred.certificate, "read back with the PIN")
    try:
        load_pkcs12(path.read_bytes(), "wrong PIN")
        story.check(False, "a wrong PIN is refused")
    except Pkcs12PasswordError as exc:
        story.check(True, f"a wrong PIN is refused: {exc}")


def _revocation(story: _Story, pki: Any) -> None:
    from qcertlib.revocation import RevocationPolicy, Status, check

    story.step("5. Revocation over OCSP and CRL (qcert serve on 127.0.0.1)")
    policy = RevocationPolicy()
    good = check(pki.citizen.certificate, pki.issuing_ca, policy=policy)
    story.console.print(f"  citizen: {good.status.value} (source {good.source})")
    story.check(good.status is Status.GOOD, "the citizen certificate is good")
    bad = check(pki.revoked.certificate, pki.issuing_ca, policy=policy)
    story.console.print(f"  revoked: {bad.status.value}, reason {bad.reason}")
    story.check(bad.status is Status.REVOKED, "the revoked certificate is reported revoked")
    pki.ca.revoke(pki.seal_medio.serial, "keyCompromise")
    now = check(pki.seal_medio.certificate, pki.issuing_ca, policy=policy)
    story.check(now.status is Status.REVOKED, "a revocation shows in the very next OCSP response")


def _signing(story: _Story, pki: Any, directory: Path, base_url: str) -> None:
    from qcertlib.signing import SignatureLevel, SignatureOptions, SoftwareKeyBackend
    from qcertlib.signing.cades import sign_cades
    from qcertlib.signing.pades import sign_pades
    from qcertlib.signing.xades import sign_xades
    from qcertlib.validation import ValidationPolicy, validate_cms, validate_pdf, validate_xml

    story.step("6. Sign (B-T, timestamped by the local TSA) and validate")
    options = SignatureOptions(level=SignatureLevel.B_T, tsa_url=f"{base_url}/tsa")
    citizen = SoftwareKeyBackend(
        pki.citizen.private_key, pki.citizen.certificate, pki.citizen.chain
    )
    seal = SoftwareKeyBackend(
        pki.seal_alto.private_key, pki.seal_alto.certificate, pki.seal_alto.chain
    )
    # B-T carries no revocation data: the validator asks the live responder (step 5).
    policy = ValidationPolicy(
        trust_roots=(pki.root,), intermediates=(pki.issuing_ca,), fetch_revocation=True
    )
    blob = b"qcertlib demo: a blob signed by a citizen\n"
    pdf = sign_pades(_minimal_pdf("qcertlib demo"), citizen, options)
    xml = sign_xades(b"<Resolucion><Texto>qcertlib demo</Texto></Resolucion>", seal, options)
    p7s = sign_cades(blob, citizen, options)
    for name, data in (("demo.pdf", pdf), ("demo.xml", xml), ("demo.p7s", p7s)):
        (directory / name).write_bytes(data)
    (directory / "demo.txt").write_bytes(blob)
    reports = {
        "demo.pdf (PAdES, citizen)": validate_pdf(pdf, policy),
        "demo.xml (XAdES, seal alto)": validate_xml(xml, policy),
        "demo.p7s (CAdES detached, citizen)": validate_cms(p7s, blob, policy),
    }
    table = Table("document", "indication", "level", "signer", "timestamp")
    problems: list[str] = []
    for name, report in reports.items():
        sig = report.signatures[0] if report.signatures else None
        indication = report.indication.value
        if report.subindication is not None:
            indication += f" / {report.subindication.value}"
            problems.extend(f"{name}: {m}" for m in (sig.messages if sig else ()))
        table.add_row(
            name,
            indication,
            sig.level.value if sig and sig.level else "-",
            (sig.signer.given_name or sig.signer.entity_name or "-") if sig and sig.signer else "-",
            sig.timestamp_time.isoformat() if sig and sig.timestamp_time else "-",
        )
    story.console.print(table)
    for problem in problems:
        story.console.print(f"  {problem}")
    story.check(
        all(r.indication.value == "TOTAL_PASSED" for r in reports.values()),
        "every signature validates (TOTAL_PASSED) at level B-T",
    )


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to keep the PKI and the signed files (default: a new temporary folder).",
)
def demo(directory: Path | None) -> None:
    """Run the whole story on a fresh test PKI; exit 0 only if every step succeeds."""
    console = Console(highlight=False)
    story = _Story(console)
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="qcert-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"

    story.attempt("identifiers", lambda: _identifiers(story))
    pki: Any = None

    def make_pki() -> None:
        nonlocal pki
        pki = _pki(story, directory, base_url)

    story.attempt("test PKI", make_pki)
    if pki is not None:
        story.attempt("lint and inspect", lambda: _lint_and_inspect(story, pki))
        story.attempt("PKCS#12", lambda: _pkcs12(story, pki, directory))
        try:
            with _serving(pki.directory, port):
                story.attempt("revocation", lambda: _revocation(story, pki))
                story.attempt("signing", lambda: _signing(story, pki, directory, base_url))
        except ImportError as exc:
            story.check(
                False, f"services: missing optional dependency ({exc.name}); install qcertlib[all]"
            )
    console.rule()
    console.print(f"files kept in {directory}")
    if story.failures:
        console.print(f"[red]{len(story.failures)} step(s) failed[/red]")
        raise SystemExit(1)
    console.print("[green]all steps succeeded[/green]")
