"""Foundation sub-commands of ``qcert``: identifiers (``nif``) and QC statements."""

from __future__ import annotations

import json
import re
from typing import Any

import click

__all__ = ["nif", "qcs"]

_ETSI_SHAPE = re.compile(r"[A-Za-z]{2}[A-Za-z:][A-Za-z]{2}-.+")


def _describe_identifier(text: str) -> dict[str, Any]:
    """What ``qcert nif`` reports about one argument (a Spanish or an ETSI identifier)."""
    from qcertlib.errors import IdentifierError
    from qcertlib.identifiers import (
        EtsiIdentifier,
        IdKind,
        SpanishId,
        parse_etsi_identifier,
        parse_spanish_id,
    )

    result: dict[str, Any] = {"input": text}
    etsi: EtsiIdentifier | None = None
    stripped = text.strip()
    try:
        try:
            parsed: SpanishId | None = parse_spanish_id(stripped, allow_klm=True)
        except IdentifierError:
            if not _ETSI_SHAPE.fullmatch(stripped):
                raise
            etsi = parse_etsi_identifier(stripped)
            parsed = etsi.spanish_id
    except IdentifierError as exc:
        result.update(valid=False, error=exc.message, reason=exc.reason)
        return result
    result["valid"] = True
    if etsi is not None:
        result["etsi_input"] = {
            "scheme": etsi.scheme,
            "country": etsi.country,
            "reference": etsi.reference,
            "natural": etsi.is_natural,
            "legal": etsi.is_legal,
            "deprecated": etsi.deprecated,
        }
    if parsed is None:
        return result
    entity = parsed.entity_kind
    if parsed.kind is IdKind.CIF:
        forms = [str(parsed.etsi_identifier("VAT"))]
    elif parsed.kind is IdKind.NIF_KLM:
        forms = [str(parsed.etsi_identifier("TIN"))]
    else:
        forms = [str(parsed.etsi_identifier("IDC")), str(parsed.etsi_identifier("TIN"))]
    result.update(
        kind=parsed.kind.value,
        value=parsed.value,
        natural_person=parsed.is_natural_person,
        public_body=parsed.is_public_body,
        entity_letter=entity.letter if entity else None,
        entity_kind=entity.name if entity else None,
        entity_description=entity.description if entity else None,
        etsi=forms,
    )
    return result


def _render_text(item: dict[str, Any]) -> str:
    if not item["valid"]:
        return f"{item['input']}: INVALID ({item['reason']}): {item['error']}"
    lines = []
    if "etsi_input" in item:
        info = item["etsi_input"]
        holder = (
            "natural or legal"
            if info["natural"] and info["legal"]
            else ("natural" if info["natural"] else "legal")
        )
        extra = ", deprecated scheme" if info["deprecated"] else ""
        lines.append(
            f"{item['input']}: valid ETSI identifier (scheme {info['scheme']}, country "
            f"{info['country']}, {holder} person{extra})"
        )
    if "kind" in item:
        kind = item["kind"].upper()
        if item["entity_letter"]:
            who = f"legal entity {item['entity_letter']}: {item['entity_description']}"
        else:
            who = "natural person"
        shown = (
            item["value"]
            if item["value"] == item["input"] or "etsi_input" in item
            else (f"{item['input']} -> {item['value']}")
        )
        head = f"{shown}: valid {kind} ({who})"
        lines.append(head if "etsi_input" not in item else f"  {head}")
        lines.append(f"  public body: {'yes' if item['public_body'] else 'no'}")
        lines.append(f"  ETSI: {', '.join(item['etsi'])}")
    return "\n".join(lines)


@click.command("nif")
@click.argument("identifiers", nargs=-1, required=True, metavar="ID...")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
def nif(identifiers: tuple[str, ...], output_format: str) -> None:
    """Check Spanish identifiers (DNI, NIE, CIF, K/L/M NIF) or ETSI ones (IDCES-..., VATES-...).

    Says the kind, the normalised value, the entity kind of a CIF, whether it is a
    public body and the ETSI EN 319 412-1 forms. Exit status 0 if every ID is
    valid, 1 if any is not.
    """
    items = [_describe_identifier(text) for text in identifiers]
    if output_format == "json":
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
    else:
        for item in items:
            click.echo(_render_text(item))
    if not all(item["valid"] for item in items):
        raise SystemExit(1)


# --------------------------------------------------------------------------- qcert qcs


def _statement_fields(statement: Any) -> dict[str, Any]:
    """The JSON form of one decoded QC statement (kind, oid, name and its values)."""
    from cryptography import x509

    from qcertlib import qcstatements as q
    from qcertlib.oids import name_of

    def oid_item(oid: x509.ObjectIdentifier) -> dict[str, str]:
        return {"oid": oid.dotted_string, "name": name_of(oid)}

    def general_name(value: x509.GeneralName) -> dict[str, str]:
        if isinstance(value, x509.DirectoryName):
            shown = value.value.rfc4514_string()
        elif isinstance(value, x509.RegisteredID):
            shown = value.value.dotted_string
        elif isinstance(value, x509.OtherName):
            shown = f"{value.type_id.dotted_string}={value.value.hex()}"
        else:
            shown = str(value.value)
        return {"type": type(value).__name__, "value": shown}

    fields: dict[str, Any] = {"kind": type(statement).__name__, **oid_item(statement.oid)}
    if isinstance(statement, q.QcType):
        fields["types"] = [oid_item(t) for t in statement.types]
    elif isinstance(statement, q.QcIdentMethod):
        fields["methods"] = [oid_item(m) for m in statement.methods]
    elif isinstance(statement, q.QcPDS):
        fields["locations"] = [
            {"url": loc.url, "language": loc.language} for loc in statement.locations
        ]
    elif isinstance(statement, q.QcRetentionPeriod):
        fields["years"] = statement.years
    elif isinstance(statement, q.QcLimitValue):
        fields.update(
            currency=statement.currency, amount=statement.amount, exponent=statement.exponent
        )
    elif isinstance(statement, q.QcCClegislation | q.QcQSCDlegislation):
        fields["countries"] = list(statement.countries)
    elif isinstance(statement, q.SemanticsInformation | q.PkixQcSyntaxV1):
        semantics = statement.semantics_identifier
        fields["semantics_identifier"] = oid_item(semantics) if semantics is not None else None
        fields["name_registration_authorities"] = [
            general_name(g) for g in statement.name_registration_authorities
        ]
    elif isinstance(statement, q.UnknownStatement):
        fields["info_der"] = statement.info_der.hex() if statement.info_der is not None else None
    return fields


def _qcs_report(path: str, qcs: Any) -> dict[str, Any]:
    if qcs is None:
        return {"file": path, "present": False, "statements": [], "defects": []}
    return {
        "file": path,
        "present": True,
        "qualified": qcs.is_qualified,
        "qscd": qcs.is_qscd,
        "statements": [_statement_fields(s) for s in qcs.statements],
        "defects": [
            {
                "code": d.code.value,
                "statement_oid": d.statement_oid.dotted_string if d.statement_oid else None,
                "message": d.message,
            }
            for d in qcs.defects
        ],
    }


def _named(item: dict[str, Any]) -> str:
    return item["oid"] if item["name"] == item["oid"] else f"{item['name']} ({item['oid']})"


def _render_statement(item: dict[str, Any]) -> list[str]:
    head = f"  {_named(item)}"
    kind = item["kind"]
    if kind in ("QcType", "QcIdentMethod"):
        values = item["types"] if kind == "QcType" else item["methods"]
        return [f"{head}: {', '.join(_named(v) for v in values)}"]
    if kind == "QcPDS":
        return [f"{head}:", *(f"    [{loc['language']}] {loc['url']}" for loc in item["locations"])]
    if kind == "QcRetentionPeriod":
        return [f"{head}: {item['years']} years"]
    if kind == "QcLimitValue":
        return [f"{head}: {item['amount']} x 10^{item['exponent']} {item['currency']}"]
    if kind in ("QcCClegislation", "QcQSCDlegislation"):
        return [f"{head}: {', '.join(item['countries'])}"]
    if kind in ("SemanticsInformation", "PkixQcSyntaxV1"):
        semantics = item["semantics_identifier"]
        lines = [f"{head}: {_named(semantics) if semantics else 'no semantics identifier'}"]
        lines += [
            f"    registration authority {g['type']}: {g['value']}"
            for g in item["name_registration_authorities"]
        ]
        return lines
    if kind == "UnknownStatement":
        info = item["info_der"]
        return [f"{head}: not decoded, statementInfo {info if info is not None else 'absent'}"]
    return [head]


def _render_qcs_text(report: dict[str, Any]) -> str:
    if not report["present"]:
        return f"{report['file']}: no qcStatements extension"
    lines = [
        f"{report['file']}: {len(report['statements'])} QC statement(s); "
        f"qualified: {'yes' if report['qualified'] else 'no'}, "
        f"QSCD: {'yes' if report['qscd'] else 'no'}"
    ]
    for item in report["statements"]:
        lines += _render_statement(item)
    if report["defects"]:
        lines.append(f"defects ({len(report['defects'])}):")
        lines += [f"  {d['code']}: {d['message']}" for d in report["defects"]]
    else:
        lines.append("defects: none")
    return "\n".join(lines)


@click.command("qcs")
@click.argument("certfile", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
def qcs(certfile: str, output_format: str) -> None:
    """Show the QC statements (qcStatements extension) of a certificate, with their defects.

    CERTFILE is PEM or DER; of a PEM chain, the first certificate is shown. Defects
    (pkixQCSyntax-v1, a QcSSCD carrying a value, ...) are reported, not errors: the
    exit status is 0 whenever the certificate can be read, 2 when it cannot.
    """
    from pathlib import Path

    from qcertlib._certs import load_certificate
    from qcertlib.errors import DecodingError
    from qcertlib.qcstatements import QCStatements

    try:
        cert = load_certificate(Path(certfile).read_bytes())
    except (DecodingError, OSError) as exc:
        click.echo(f"error: {certfile}: {exc}", err=True)
        raise SystemExit(2) from None
    report = _qcs_report(certfile, QCStatements.from_certificate(cert))
    if output_format == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(_render_qcs_text(report))
