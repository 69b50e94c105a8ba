"""validate_pdf / validate_xml: indications, sub-indications and levels."""

from __future__ import annotations

import base64
import importlib
import io
import json
from typing import Any

import pytest

from qcertlib.errors import ValidationInputError
from qcertlib.signing.options import SignatureLevel, SignatureOptions
from qcertlib.signing.pades import sign_pades
from qcertlib.signing.timestamps import Timestamper
from qcertlib.signing.xades import XadesPackaging, sign_xades
from qcertlib.validation import (
    Indication,
    RevocationStatus,
    SubIndication,
    ValidationPolicy,
    validate_pdf,
    validate_xml,
)
from tests.signing_docs.conftest import Pki, make_pdf

DOC = b'<Factura xmlns="urn:example"><Importe>121.00</Importe></Factura>'


def trusting(pki: Pki, *, fetch: bool = False) -> ValidationPolicy:
    return ValidationPolicy(trust_roots=(pki.root,), fetch_revocation=fetch)


# ---------------------------------------------------------------- PDF


@pytest.mark.parametrize(
    ("level", "fetch"),
    [
        (SignatureLevel.B_B, True),
        (SignatureLevel.B_T, True),
        (SignatureLevel.B_LT, False),
        (SignatureLevel.B_LTA, False),
    ],
    ids=["B-B", "B-T", "B-LT", "B-LTA"],
)
def test_pdf_levels_are_detected(
    level: SignatureLevel, fetch: bool, pki: Pki, tsa: Timestamper
) -> None:
    signed = sign_pades(make_pdf(), pki.backend(), SignatureOptions(level=level), timestamper=tsa)
    report = validate_pdf(signed, trusting(pki, fetch=fetch))
    (sig,) = report.signatures
    assert sig.indication is Indication.TOTAL_PASSED, sig.messages
    assert sig.level is level
    assert sig.revocation_status is RevocationStatus.GOOD
    assert sig.signer_certificate == pki.signer
    assert sig.signing_time is not None
    assert (sig.timestamp_time is not None) is level.at_least(SignatureLevel.B_T)
    assert sig.format == "pades"


def test_pdf_without_revocation_data_is_try_later(pki: Pki) -> None:
    signed = sign_pades(make_pdf(), pki.backend(), SignatureOptions())
    (sig,) = validate_pdf(signed, trusting(pki)).signatures
    assert sig.indication is Indication.INDETERMINATE
    assert sig.subindication is SubIndication.TRY_LATER


def test_pdf_tampered_content_is_hash_failure(pki: Pki) -> None:
    signed = sign_pades(make_pdf("Hola qcertlib"), pki.backend(), SignatureOptions())
    tampered = signed.replace(b"Hola qcertlib", b"Hola qcertlyb")
    report = validate_pdf(tampered, trusting(pki, fetch=True))
    assert report.indication is Indication.TOTAL_FAILED
    assert report.subindication is SubIndication.HASH_FAILURE


def test_pdf_unknown_root_is_no_certificate_chain_found(pki: Pki) -> None:
    signed = sign_pades(make_pdf(), pki.backend(), SignatureOptions())
    report = validate_pdf(signed, ValidationPolicy(trust_roots=(pki.other_root,)))
    assert report.indication is Indication.INDETERMINATE
    assert report.subindication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


def test_pdf_signer_revoked_before_signing_is_revoked(pki: Pki) -> None:
    signed = sign_pades(make_pdf(), pki.backend("revoked"), SignatureOptions())
    report = validate_pdf(signed, trusting(pki, fetch=True))
    assert report.indication is Indication.TOTAL_FAILED
    assert report.subindication is SubIndication.REVOKED
    assert report.signatures[0].revocation_status is RevocationStatus.REVOKED


def test_pdf_two_signatures_are_both_reported_valid(pki: Pki, tsa: Timestamper) -> None:
    options = SignatureOptions(level=SignatureLevel.B_T)
    once = sign_pades(make_pdf(), pki.backend(), options, timestamper=tsa)
    twice = sign_pades(once, pki.backend("ec_signer"), options, timestamper=tsa)
    report = validate_pdf(twice, trusting(pki, fetch=True))
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2
    assert [s.signer_certificate for s in report.signatures] == [pki.signer, pki.ec_signer]


def _append_page_change(signed: bytes) -> bytes:
    inc: Any = importlib.import_module("pyhanko.pdf_utils.incremental_writer")
    generic: Any = importlib.import_module("pyhanko.pdf_utils.generic")
    w = inc.IncrementalPdfFileWriter(io.BytesIO(signed))
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    new = w.add_object(generic.StreamObject(stream_data=b"BT /F1 30 Tf 72 600 Td (PAGADO) Tj ET"))
    page["/Contents"] = new
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_pdf_changed_after_signing_is_total_failed(pki: Pki) -> None:
    signed = sign_pades(make_pdf(), pki.backend(), SignatureOptions())
    report = validate_pdf(_append_page_change(signed), trusting(pki, fetch=True))
    assert report.indication is Indication.TOTAL_FAILED
    assert report.subindication is SubIndication.FORMAT_FAILURE


def test_pdf_without_signature_is_signed_data_not_found() -> None:
    report = validate_pdf(make_pdf(), ValidationPolicy())
    assert report.signatures == ()
    assert report.indication is Indication.INDETERMINATE
    assert report.subindication is SubIndication.SIGNED_DATA_NOT_FOUND


def test_pdf_report_renders_signer_summary_as_text_and_json(pki: Pki, tsa: Timestamper) -> None:
    signed = sign_pades(
        make_pdf(), pki.backend(), SignatureOptions(level=SignatureLevel.B_LT), timestamper=tsa
    )
    report = validate_pdf(signed, trusting(pki), name="factura.pdf")
    text = report.to_text()
    assert "factura.pdf" in text
    assert "00000000T" in text
    data = json.loads(report.to_json())
    assert data["signatures"][0]["level"] == "B-LT"
    assert data["signatures"][0]["format"] == "pades"


def _encrypted_pdf() -> bytes:
    reader_mod: Any = importlib.import_module("pyhanko.pdf_utils.reader")
    writer_mod: Any = importlib.import_module("pyhanko.pdf_utils.writer")
    w = writer_mod.copy_into_new_writer(reader_mod.PdfFileReader(io.BytesIO(make_pdf())))
    w.encrypt("owner", "user")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04 a zip file", "not a PDF"),
        (make_pdf()[: make_pdf().rfind(b"startxref")] + b"startxref\n99999\n%%EOF\n", "damaged"),
        (_encrypted_pdf(), "encrypted"),
    ],
    ids=["empty", "not-pdf", "broken-xref", "encrypted"],
)
def test_pdf_unreadable_input_is_a_validation_input_error(data: bytes, message: str) -> None:
    with pytest.raises(ValidationInputError, match=message):
        validate_pdf(data, ValidationPolicy())


# ---------------------------------------------------------------- XML


@pytest.mark.parametrize("level", [SignatureLevel.B_B, SignatureLevel.B_T, SignatureLevel.B_LT])
@pytest.mark.parametrize("packaging", list(XadesPackaging), ids=lambda p: p.value)
def test_xml_levels_are_detected(
    packaging: XadesPackaging, level: SignatureLevel, pki: Pki, tsa: Timestamper
) -> None:
    detached = packaging is XadesPackaging.DETACHED
    signed = sign_xades(
        b"any bytes" if detached else DOC,
        pki.backend(),
        SignatureOptions(level=level),
        packaging=packaging,
        reference_uri="doc.bin" if detached else None,
        timestamper=tsa,
    )
    fetch = level is not SignatureLevel.B_LT
    report = validate_xml(signed, trusting(pki, fetch=fetch), content=b"any bytes")
    (sig,) = report.signatures
    assert sig.indication is Indication.TOTAL_PASSED, sig.messages
    assert sig.level is level
    assert sig.revocation_status is RevocationStatus.GOOD
    assert sig.signer_certificate == pki.signer
    assert (sig.timestamp_time is not None) is level.at_least(SignatureLevel.B_T)


def test_xml_tampered_content_is_hash_failure(pki: Pki) -> None:
    signed = sign_xades(DOC, pki.backend(), SignatureOptions())
    report = validate_xml(signed.replace(b"121.00", b"921.00"), trusting(pki, fetch=True))
    assert report.indication is Indication.TOTAL_FAILED
    assert report.subindication is SubIndication.HASH_FAILURE


def test_xml_changed_detached_document_is_hash_failure(pki: Pki) -> None:
    signed = sign_xades(
        b"original",
        pki.backend(),
        SignatureOptions(),
        packaging=XadesPackaging.DETACHED,
        reference_uri="doc.bin",
    )
    report = validate_xml(signed, trusting(pki, fetch=True), content=b"changed")
    assert report.subindication is SubIndication.HASH_FAILURE


def test_xml_detached_without_content_is_signed_data_not_found(pki: Pki) -> None:
    signed = sign_xades(
        b"original",
        pki.backend(),
        SignatureOptions(),
        packaging=XadesPackaging.DETACHED,
        reference_uri="doc.bin",
    )
    report = validate_xml(signed, trusting(pki))
    assert report.indication is Indication.INDETERMINATE
    assert report.subindication is SubIndication.SIGNED_DATA_NOT_FOUND


def test_xml_altered_signature_value_is_sig_crypto_failure(pki: Pki) -> None:
    from qcertlib.signing.xades import DS_NS, parse_xml

    signed = sign_xades(DOC, pki.backend(), SignatureOptions())
    root = parse_xml(signed)
    value = root.find(f".//{{{DS_NS}}}SignatureValue")
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()
    from lxml import etree  # type: ignore[import-untyped]  # lxml ships no stubs

    report = validate_xml(etree.tostring(root), trusting(pki, fetch=True))
    assert report.indication is Indication.TOTAL_FAILED
    assert report.subindication is SubIndication.SIG_CRYPTO_FAILURE


def test_xml_unknown_root_is_no_certificate_chain_found(pki: Pki) -> None:
    signed = sign_xades(DOC, pki.backend(), SignatureOptions())
    report = validate_xml(signed, ValidationPolicy(trust_roots=(pki.other_root,)))
    assert report.indication is Indication.INDETERMINATE
    assert report.subindication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


def test_xml_signer_revoked_before_signing_is_revoked(pki: Pki) -> None:
    signed = sign_xades(DOC, pki.backend("revoked"), SignatureOptions())
    report = validate_xml(signed, trusting(pki, fetch=True))
    assert report.indication is Indication.TOTAL_FAILED
    assert report.subindication is SubIndication.REVOKED


def test_xml_without_signature_is_indeterminate() -> None:
    report = validate_xml(DOC, ValidationPolicy())
    assert report.signatures == ()
    assert report.indication is Indication.INDETERMINATE


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<unclosed>",
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    ],
    ids=["empty", "malformed", "external-entity"],
)
def test_xml_unreadable_or_hostile_input_is_a_validation_input_error(data: bytes) -> None:
    with pytest.raises(ValidationInputError):
        validate_xml(data, ValidationPolicy())


def test_xml_schema_violation_is_format_failure(pki: Pki, tsa: Timestamper) -> None:
    signed = sign_xades(
        DOC, pki.backend(), SignatureOptions(level=SignatureLevel.B_T), timestamper=tsa
    )
    marker = b"<xades:UnsignedSignatureProperties>"
    assert marker in signed
    broken = signed.replace(marker, marker + b"<xades:NotInTheSchema/>")
    report = validate_xml(broken, trusting(pki, fetch=True))
    assert report.indication is Indication.TOTAL_FAILED
    assert report.subindication is SubIndication.FORMAT_FAILURE
