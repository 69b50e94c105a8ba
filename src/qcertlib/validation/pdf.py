"""Validation of PAdES signatures in PDF documents (ETSI EN 319 102-1 verdicts).

For each signature field :func:`validate_pdf`:

1. takes the CMS container and the signed ``/ByteRange`` bytes and runs the CAdES
   checks of :func:`qcertlib.validation.validate_cms` on them (signer certificate,
   message digest → ``HASH_FAILURE``, signature → ``SIG_CRYPTO_FAILURE``, signature
   timestamp, path to the trust roots → ``NO_CERTIFICATE_CHAIN_FOUND``, validity,
   revocation → ``REVOKED`` …), with the certificates, OCSP responses and CRLs of
   the document's DSS added to those inside the CMS;
2. checks that the byte range covers a whole revision and that later incremental
   updates are only the kinds a signed PDF allows (more signatures, DSS, document
   timestamps, form filling, annotations — pyHanko's difference analysis); anything
   else is ``TOTAL_FAILED / FORMAT_FAILURE``;
3. reports the level reached: B-B, B-T (valid signature timestamp), B-LT (the DSS or
   the CMS holds every certificate and revocation answer of the signer and TSA
   paths), B-LTA (B-LT plus a valid document timestamp added after the signature).

Document timestamps are verified (imprint, TSA certificate, chain) and used for
B-LTA; they are not reported as signatures. The signing time is the ``/M`` entry.

Unreadable input (empty, not a PDF, damaged cross-reference table, encrypted) raises
:class:`~qcertlib.errors.ValidationInputError`. Needs the ``pdf`` extra (pyHanko).
"""

from __future__ import annotations

import dataclasses
import io
from datetime import datetime
from typing import Any

from cryptography import x509

from qcertlib.errors import TimestampError, ValidationInputError
from qcertlib.signing import _cms
from qcertlib.signing.options import SignatureLevel
from qcertlib.validation.report import (
    Indication,
    SignatureReport,
    SubIndication,
    ValidationPolicy,
    ValidationReport,
)

__all__ = ["validate_pdf"]


def _open(data: bytes) -> Any:
    try:
        from pyhanko.pdf_utils.misc import PdfError
        from pyhanko.pdf_utils.reader import PdfFileReader
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ValidationInputError(
            "PDF validation needs pyHanko: pip install 'qcertlib[pdf]'"
        ) from exc
    if not data:
        raise ValidationInputError("the document is empty (0 bytes); expected a PDF")
    if b"%PDF-" not in data[:1024]:
        raise ValidationInputError("the document is not a PDF (no %PDF- header)")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=True)
        encrypted = reader.encrypted
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ValidationInputError(f"the PDF is damaged and cannot be read ({exc})") from None
    if encrypted:
        raise ValidationInputError(
            "the PDF is encrypted; qcertlib does not validate encrypted PDFs"
        )
    return reader


def _dss_material(reader: Any) -> tuple[list[x509.Certificate], list[bytes], list[bytes]]:
    from pyhanko.sign.validation import DocumentSecurityStore
    from pyhanko.sign.validation.errors import ValidationInfoReadingError

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except ValidationInfoReadingError:
        return [], [], []
    certs = []
    for cert in dss.load_certs():
        try:
            parsed = _cms.crypto_cert(cert)
            _ = (parsed.subject, parsed.issuer, parsed.extensions)  # parsed lazily
        except ValueError:
            continue  # a damaged DSS entry is ignored (the path may then not be found)
        certs.append(parsed)
    ocsps = [bytes(ref.get_object().data) for ref in dss.ocsps]
    crls = [bytes(ref.get_object().data) for ref in dss.crls]
    return certs, ocsps, crls


def _signed_bytes(data: bytes, sig: Any) -> bytes:
    br = [int(v) for v in sig.byte_range]
    out = bytearray()
    for start, length in zip(br[0::2], br[1::2], strict=True):
        out += data[start : start + length]
    return bytes(out)


def _contents(sig: Any) -> bytes:
    """The DER object in ``/Contents`` without the zero padding after it."""
    from pyhanko.sign.validation.pdf_embedded import extract_contents

    raw = bytes(extract_contents(sig.sig_object))
    if len(raw) < 2 or raw[0] != 0x30:
        raise ValueError("/Contents does not hold a DER SEQUENCE")
    first = raw[1]
    if first < 0x80:
        return raw[: 2 + first]
    n = first & 0x7F
    if n == 0 or n > 4 or len(raw) < 2 + n:
        raise ValueError("/Contents has a bad DER length")
    return raw[: 2 + n + int.from_bytes(raw[2 : 2 + n], "big")]


def _doc_timestamp_time(
    data: bytes, sig: Any, policy: ValidationPolicy, pool: list[x509.Certificate]
) -> tuple[datetime | None, str]:
    from qcertlib.signing.timestamps import token_info, verify_token

    try:
        token = _contents(sig)
        _, alg, _ = token_info(token)
        info = verify_token(
            token,
            alg.digest(_signed_bytes(data, sig)),
            alg,
            trust_roots=policy.trust_roots,
            intermediates=pool,
        )
    except (TimestampError, ValueError) as exc:
        return None, f"document timestamp {sig.field_name} does not verify: {exc}"
    return info.gen_time, f"document timestamp {sig.field_name} at {info.gen_time.isoformat()}"


def validate_pdf(
    data: bytes, policy: ValidationPolicy | None = None, *, name: str = "document.pdf"
) -> ValidationReport:
    """Validate every signature of a PDF; see the module documentation."""
    from pyhanko.pdf_utils.misc import PdfError

    policy = policy or ValidationPolicy()
    reader = _open(data)
    try:
        embedded = list(reader.embedded_signatures)
        dss_certs, dss_ocsps, dss_crls = _dss_material(reader)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise ValidationInputError(f"the PDF's signature fields cannot be read ({exc})") from None
    pool = _cms.dedupe([*dss_certs, *policy.intermediates])
    doc_ts: list[tuple[int, datetime]] = []
    notes: list[str] = []
    for sig in embedded:
        if sig.sig_object_type == "/DocTimeStamp":
            when, note = _doc_timestamp_time(data, sig, policy, pool)
            notes.append(note)
            if when is not None:
                doc_ts.append((sig.signed_revision, when))
    reports = []
    for sig in embedded:
        if sig.sig_object_type == "/DocTimeStamp":
            continue
        reports.append(
            _validate_one(data, sig, policy, dss_certs, dss_ocsps, dss_crls, doc_ts, notes)
        )
    return ValidationReport(name, tuple(reports))


def _validate_one(
    data: bytes,
    sig: Any,
    policy: ValidationPolicy,
    dss_certs: list[x509.Certificate],
    dss_ocsps: list[bytes],
    dss_crls: list[bytes],
    doc_ts: list[tuple[int, datetime]],
    notes: list[str],
) -> SignatureReport:
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    from qcertlib.validation.cms import _Context

    signing_time = sig.self_reported_timestamp
    subfilter = str(sig.sig_object.get("/SubFilter", ""))
    try:
        sd = _cms.load_signed_data(_contents(sig))
        signer_info = sd["signer_infos"][0]
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        return SignatureReport(
            Indication.TOTAL_FAILED,
            SubIndication.FORMAT_FAILURE,
            signing_time=signing_time,
            messages=(f"{sig.field_name}: the signature container is malformed ({exc})",),
            format="pades",
        )
    ctx = _Context(
        sd,
        _signed_bytes(data, sig),
        dataclasses.replace(policy, intermediates=(*policy.intermediates, *dss_certs)),
    )
    # the DSS counts as part of the signature for B-LT (EN 319 142-1, 5.4)
    ctx.embedded = _cms.dedupe([*ctx.embedded, *dss_certs])
    ctx.ocsps = [*ctx.ocsps, *dss_ocsps]
    ctx.crls = [*ctx.crls, *dss_crls]
    try:
        report: SignatureReport = ctx.validate(signer_info)
    except (ValueError, TypeError, KeyError) as exc:  # damaged certificates or attributes
        return SignatureReport(
            Indication.TOTAL_FAILED,
            SubIndication.FORMAT_FAILURE,
            signing_time=signing_time,
            messages=(f"{sig.field_name}: the signature data is malformed ({exc})",),
            format="pades",
        )
    messages = [f"field {sig.field_name}", *report.messages]
    indication, sub, level = report.indication, report.subindication, report.level

    def fail(new_sub: SubIndication, message: str) -> None:
        nonlocal indication, sub
        if indication is not Indication.TOTAL_FAILED:
            indication, sub = Indication.TOTAL_FAILED, new_sub
        messages.append(message)

    try:
        sig.compute_integrity_info()
        coverage = sig.coverage
        diff = sig.diff_result
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        coverage, diff = None, None
        fail(SubIndication.FORMAT_FAILURE, f"the document's revisions cannot be analysed ({exc})")
    if coverage is not None and coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        fail(SubIndication.FORMAT_FAILURE, "the signature does not cover a whole revision")
    if isinstance(diff, SuspiciousModification):
        fail(SubIndication.FORMAT_FAILURE, f"suspicious changes after signing: {diff}")
    elif diff is not None and diff.modification_level is ModificationLevel.OTHER:
        fail(
            SubIndication.FORMAT_FAILURE,
            "the document was changed after signing in a way a signature does not allow",
        )
    elif coverage is SignatureCoverageLevel.ENTIRE_FILE:
        messages.append("the signature covers the whole file")
    if subfilter != "/ETSI.CAdES.detached":
        messages.append(f"sub-filter {subfilter or '-'}: not a PAdES baseline signature")
        level = None
    if level is SignatureLevel.B_LT and any(rev > sig.signed_revision for rev, _ in doc_ts):
        level = SignatureLevel.B_LTA
    messages.extend(notes)
    return dataclasses.replace(
        report,
        indication=indication,
        subindication=sub,
        level=level,
        signing_time=signing_time,
        messages=tuple(messages),
        format="pades",
    )
