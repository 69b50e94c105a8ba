"""Compare qcertlib's linter with DigiCert pkilint on the real leaf certificates.

Runs ``lint_etsi_cert lint -t TYPE -s WARNING -f JSON`` (the ``-t`` type chosen as
``shared/reference/profiles.md`` §6.3 recommends: seals are always forced to
NCP-LEGAL-PERSON, natural persons with QcSSCD to QCP-N-QSCD-EIDAS-FINAL, other natural
persons to NCP-NATURAL-PERSON) and :func:`qcertlib.profiles.lint` (profile detected)
on every leaf in ``tests/vectors/real-certs`` and prints a Markdown table: the
ERROR/FATAL findings of each, whether the verdicts agree, and why they differ.

Usage: ``python benchmarks/compare_pkilint.py [--at 2026-11-21]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from qcertlib.profiles import Severity, inspect, lint

HERE = Path(__file__).resolve().parent
CERTS = HERE.parent / "tests" / "vectors" / "real-certs"

#: pkilint code -> our code, for the same rule.
SAME_RULE = {
    "pkix.prohibited_qualified_statement_present": "rfc3739.pkix_qc_syntax_v1_present",
    "itu.invalid_asn1_syntax": "der.qc_sscd_statement_info_present",
    "etsi.en_319_412_2.nat-4.3.2-1.unknown_key_usage_setting": (
        "etsi.en_319_412_2.nat-4.3.2-1.unknown_key_usage_setting"
    ),
    "etsi.en_319_412_2.nat-4.3.2-1.mixed_key_usage_setting": (
        "etsi.en_319_412_2.nat-4.3.2-1.mixed_key_usage_setting"
    ),
}

#: Why our linter reports something pkilint does not (or the other way round).
WHY = {
    "es.nif_invalid": "NIF/CIF check characters (pkilint checks syntax only)",
    "aapp.sello.san_field_mismatch": "AAPP SAN fields vs subject (no AAPP rules in pkilint)",
    "etsi.en_319_412_1.leg-5.1.4.identifier_syntax_invalid": (
        "we validate the Spanish reference inside VATES-"
    ),
    "etsi.en_319_412_5.gen-4.2.3.qc_type_absent": (
        "QcType required for seals (pkilint: only for QCP-n/web types)"
    ),
    "etsi.en_319_412_5.qc_type_oid_as_statement_id": "zlint rule; pkilint has none",
    "profile.validity_exceeds_profile": "ACCV web: seals 12/24 months; this real one has 36",
}


def pkilint_type(name: str) -> str:
    summary = inspect((CERTS / name).read_bytes())
    if summary.kind.value == "seal":
        return "NCP-LEGAL-PERSON-CERTIFICATE"
    if summary.qscd and summary.qualified:
        return "QCP-N-QSCD-EIDAS-FINAL-CERTIFICATE"
    return "NCP-NATURAL-PERSON-CERTIFICATE"


def run_pkilint(tool: str, ctype: str, path: Path) -> list[tuple[str, str]]:
    run = subprocess.run(
        [tool, "lint", "-t", ctype, "-s", "WARNING", "-f", "JSON", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    found: list[tuple[str, str]] = []
    for result in json.loads(run.stdout or '{"results": []}')["results"]:
        for fd in result["finding_descriptions"]:
            found.append((fd["severity"], fd["code"]))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--at", default=None, help="lint time, ISO 8601 (default now)")
    args = parser.parse_args()
    at = datetime.fromisoformat(args.at) if args.at else datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    tool = shutil.which("lint_etsi_cert") or str(Path(sys.executable).parent / "lint_etsi_cert")
    if not Path(tool).exists():
        print("lint_etsi_cert not found (pip install pkilint)", file=sys.stderr)
        return 2
    leaves = [p for p in sorted(CERTS.glob("*.pem")) if not inspect(p.read_bytes()).is_ca]
    print(
        "| certificate | pkilint -t | pkilint ERROR/FATAL | qcertlib profile | "
        "qcertlib ERROR/FATAL | verdict | differences (why) |"
    )
    print("|---|---|---|---|---|---|---|")
    agree = 0
    for path in leaves:
        ctype = pkilint_type(path.name)
        theirs = run_pkilint(tool, ctype, path)
        their_errors = sorted({c for s, c in theirs if s in ("ERROR", "FATAL")})
        their_warn = sorted({c for s, c in theirs if s == "WARNING"})
        report = lint(path.read_bytes(), at=at)
        ours = sorted({f"{f.code} ({f.severity})" for f in report.at_least(Severity.ERROR)})
        our_codes = {f.code for f in report.at_least(Severity.ERROR)}
        same = (not their_errors) == report.ok
        agree += same
        mapped = {SAME_RULE.get(c, c) for c in their_errors}
        only_ours = sorted(our_codes - mapped)
        only_theirs = sorted(c for c in their_errors if SAME_RULE.get(c, c) not in our_codes)
        notes = [f"+{c}: {WHY.get(c, 'our rule')}" for c in only_ours]
        notes += [f"-{c}: only pkilint" for c in only_theirs]
        warn = "; ".join(f"{c.rsplit('.', 1)[-1]}" for c in their_warn)
        theirs_text = "<br>".join(their_errors) or f"none (WARNING: {warn or '-'})"
        print(
            f"| {path.name} | {ctype.removesuffix('-CERTIFICATE')} | {theirs_text} | "
            f"{report.profile} | {'<br>'.join(ours) or 'none'} | "
            f"{'agree' if same else 'DIFFER'} | {'<br>'.join(notes) or '-'} |"
        )
    print(f"\nverdicts agree on {agree} of {len(leaves)} leaf certificates")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
