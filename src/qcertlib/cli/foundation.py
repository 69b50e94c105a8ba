"""Foundation sub-commands of ``qcert``: identifiers (``nif``) and QC statements."""

from __future__ import annotations

import json
import re
from typing import Any

import click

__all__ = ["nif"]

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
