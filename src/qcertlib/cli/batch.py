"""``qcert batch sign``: sign many documents with one key (PKCS#12 or a PKCS#11 token).

Inputs are files, directories (their files with the format's extension; any file
for CAdES) and glob patterns. Outputs go to ``--out`` under the input's name (CAdES
detached adds ``.p7s``). A rich progress bar runs on stderr and a summary table
follows. Exit status: 0 when every document was signed (or skipped on
``--resume``), 1 when any document failed, 2 when the batch could not start
(wrong PIN, unreadable key file, TSA unreachable, usage error) — in that case no
output was written.
"""

from __future__ import annotations

import glob
import time
from pathlib import Path
from typing import Any

import click

from qcertlib.cli._secrets import read_secret
from qcertlib.cli.token import open_token_signer, token_signer_options, token_signer_requested

__all__ = ["batch"]

_EXTENSIONS = {"pades": (".pdf",), "xades": (".xml",), "cades": ()}
_LEVELS = ["B-B", "B-T", "B-LT", "B-LTA"]


class _Failure(click.ClickException):
    """The batch could not start: exit status 2."""

    exit_code = 2


def expand_inputs(patterns: tuple[str, ...], fmt: str) -> list[Path]:
    """Files named by ``patterns`` (files, directories, globs), in order, without repeats.

    A directory gives its regular files with the format's extension (any file for
    CAdES), not recursing; hidden files are left out. A name that matches nothing is
    kept, so the batch reports it as failed.
    """
    exts = _EXTENSIONS[fmt]
    out: dict[Path, None] = {}

    def add_dir(d: Path) -> None:
        for p in sorted(d.iterdir()):
            if (
                p.is_file()
                and not p.name.startswith(".")
                and (not exts or p.suffix.lower() in exts)
            ):
                out[p] = None

    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            add_dir(path)
        elif glob.has_magic(pattern):
            for name in sorted(glob.glob(pattern, recursive=True)):
                p = Path(name)
                if p.is_dir():
                    add_dir(p)
                elif p.is_file():
                    out[p] = None
        else:
            out[path] = None
    return list(out)


@click.group("batch")
def batch() -> None:
    """Sign many documents with one key: PAdES, CAdES (.p7s) or XAdES."""


@batch.command("sign")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pades", "cades", "xades"], case_sensitive=False),
    required=True,
    help="pades (PDF), cades (detached .p7s of any file) or xades (enveloped, XML).",
)
@click.option(
    "--p12",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PKCS#12 file with the signer's key, certificate and chain (or a token key below).",
)
@click.option(
    "--pin-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding the PIN (else $QCERT_PIN or a prompt).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (created if needed).",
)
@click.option("--workers", type=click.IntRange(min=1), help="Worker count (default: CPUs).")
@click.option(
    "--executor",
    type=click.Choice(["processes", "threads"]),
    default="processes",
    show_default=True,
    help="Where documents are prepared and finished.",
)
@click.option(
    "--level",
    type=click.Choice(_LEVELS, case_sensitive=False),
    default="B-B",
    show_default=True,
    help="Baseline level (B-LTA: PAdES only).",
)
@click.option("--tsa", "tsa_url", help="RFC 3161 TSA URL (needed for B-T and above).")
@click.option(
    "--digest",
    type=click.Choice(["sha256", "sha384", "sha512"]),
    default="sha256",
    show_default=True,
)
@click.option("--resume", is_flag=True, help="Skip outputs that already exist and validate.")
@click.option("--stop-on-error", is_flag=True, help="Stop at the first failed document.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a JSON report (one entry per document).",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Digests signed per backend call.",
)
@click.option(
    "--sign-threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Signing threads for an RSA key from --p12 (system OpenSSL, releases the GIL).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@token_signer_options  # --pkcs11-module/--token/--key-label/--chain (issue 9)
def sign(
    inputs: tuple[str, ...],
    fmt: str,
    p12: Path | None,
    pin_file: Path | None,
    out_dir: Path,
    workers: int | None,
    executor: str,
    level: str,
    tsa_url: str | None,
    digest: str,
    resume: bool,
    stop_on_error: bool,
    report_path: Path | None,
    chunk_size: int,
    sign_threads: int,
    quiet: bool,
) -> None:
    """Sign every INPUT (files, directories, globs) into --out."""
    from qcertlib.batch import BatchFormat, BatchJob, BatchResult, BatchSigner, write_report
    from qcertlib.batch.report import summarize
    from qcertlib.errors import QcertError
    from qcertlib.signing import DigestAlgorithm, SignatureLevel, SignatureOptions
    from qcertlib.signing.backends import Pkcs12Backend

    fmt = fmt.lower()
    sig_level = SignatureLevel.parse(level)
    if sig_level.at_least(SignatureLevel.B_T) and not tsa_url:
        raise click.UsageError(f"--level {sig_level.value} needs --tsa URL")
    if sig_level is SignatureLevel.B_LTA and fmt != "pades":
        raise click.UsageError("B-LTA is available for PAdES only")
    token = token_signer_requested()
    if (p12 is None) != token:
        raise click.UsageError("give either --p12 or --pkcs11-module/--token/--key-label")
    files = expand_inputs(inputs, fmt)
    if not files:
        raise click.UsageError("no input documents found")
    try:
        jobs = [BatchJob.into(f, out_dir, BatchFormat.parse(fmt)) for f in files]
    except ValueError as exc:
        raise click.UsageError(f"{exc} (use another --out directory)") from None
    seen: dict[Path, Path] = {}
    for job in jobs:
        if job.output in seen:
            raise click.UsageError(
                f"{seen[job.output]} and {job.input} would both be written to {job.output}"
            )
        seen[job.output] = job.input
    try:
        p12_bytes = p12.read_bytes() if p12 is not None else b""
    except OSError as exc:
        raise _Failure(f"cannot read {exc.filename}: {exc.strerror}") from None
    pin = "" if token else read_secret(pin_file, env_var="QCERT_PIN", what="PIN") or ""
    options = SignatureOptions(level=sig_level, digest=DigestAlgorithm(digest), tsa_url=tsa_url)
    results: list[BatchResult] = []
    started = time.perf_counter()
    try:
        backend: Any = (
            open_token_signer(pin_file) if token else Pkcs12Backend.from_bytes(p12_bytes, pin)
        )
        signer = BatchSigner(
            backend,
            options,
            executor=executor,
            workers=workers,
            chunk_size=chunk_size,
            stop_on_error=stop_on_error,
            resume=resume,
            sign_threads=sign_threads,
        )
        results = _run(signer, jobs, quiet)
    except QcertError as exc:
        raise _Failure(f"{type(exc).__name__}: {exc}") from None
    seconds = time.perf_counter() - started
    summary = summarize(results, seconds)
    if report_path is not None:
        write_report(
            report_path,
            results,
            seconds=seconds,
            extra={"format": fmt, "level": sig_level.value, "signer": _subject(backend)},
        )
    _print_summary(results, summary, quiet)
    if summary.failed:
        raise SystemExit(1)


def _subject(backend: Any) -> str:
    subject: str = backend.certificate.subject.rfc4514_string()
    return subject


def _run(signer: Any, jobs: list[Any], quiet: bool) -> list[Any]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    results: list[Any] = []
    if quiet:
        return list(signer.sign_all(jobs))
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task("signing", total=len(jobs), failed=0)
        failed = 0
        for result in signer.sign_all(jobs):
            results.append(result)
            failed += result.status.value == "failed"
            progress.update(task, advance=1, failed=failed)
    return results


def _print_summary(results: list[Any], summary: Any, quiet: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="qcert batch sign", show_header=True)
    for name in ("signed", "skipped", "failed", "total", "seconds", "docs/s"):
        table.add_column(name, justify="right")
    table.add_row(
        str(summary.ok),
        str(summary.skipped),
        str(summary.failed),
        str(summary.total),
        f"{summary.seconds:.2f}",
        f"{summary.documents_per_second:.1f}",
    )
    console.print(table)
    failed = [r for r in results if r.status.value == "failed"]
    for r in failed[:50]:
        click.echo(f"failed: {r.input}: {r.error}")
    if len(failed) > 50:
        click.echo(f"... and {len(failed) - 50} more failed documents (see --report)")
