"""Small PDF helpers for the token tests: a one-page PDF and pdfsig's verdicts."""

from __future__ import annotations

import importlib
import io
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import require_tool


def one_page_pdf(text: str = "Acta firmada con tarjeta") -> bytes:
    """A one-page PDF written with pyHanko's writer (classic xref table)."""
    generic: Any = importlib.import_module("pyhanko.pdf_utils.generic")
    writer_mod: Any = importlib.import_module("pyhanko.pdf_utils.writer")
    name = generic.pdf_name
    writer = writer_mod.PdfFileWriter(stream_xrefs=False)
    font = writer.add_object(
        generic.DictionaryObject(
            {
                name("/Type"): name("/Font"),
                name("/Subtype"): name("/Type1"),
                name("/BaseFont"): name("/Helvetica"),
            }
        )
    )
    content = writer.add_object(
        generic.StreamObject(stream_data=f"BT /F1 16 Tf 72 720 Td ({text}) Tj ET".encode())
    )
    writer.insert_page(
        generic.DictionaryObject(
            {
                name("/Type"): name("/Page"),
                name("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in (0, 0, 595, 842)]
                ),
                name("/Contents"): content,
                name("/Resources"): generic.DictionaryObject(
                    {name("/Font"): generic.DictionaryObject({name("/F1"): font})}
                ),
            }
        )
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdfsig_verdicts(path: Path, nssdb: str) -> list[dict[str, str]]:
    """pdfsig's per-signature ``- Key: value`` lines (it exits 0 whatever the verdict)."""
    pdfsig = require_tool("pdfsig")["pdfsig"]
    proc = subprocess.run(
        [pdfsig, "-nssdir", nssdb, str(path)], capture_output=True, text=True, check=False
    )
    verdicts: list[dict[str, str]] = []
    for line in proc.stdout.splitlines():
        if line.startswith("Signature #"):
            verdicts.append({})
        elif line.startswith("  - ") and verdicts:
            key, _, value = line[4:].partition(":")
            verdicts[-1][key.strip()] = value.strip()
    return verdicts


def assert_valid_and_trusted(verdict: dict[str, str]) -> None:
    assert verdict.get("Signature Validation") == "Signature is Valid.", verdict
    assert verdict.get("Certificate Validation") == "Certificate is Trusted.", verdict
