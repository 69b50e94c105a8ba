"""PAdES signatures (ETSI EN 319 142-1) on PDF documents, built with pyHanko.

Three stages, as for every format (see :mod:`qcertlib.signing`):

1. :func:`prepare_pades` opens the PDF, adds an incremental update with the
   signature field (optionally visible: holder name, NIF and time), reserves a fixed
   space for the CMS container, hashes the ``/ByteRange`` and computes the CAdES
   signed attributes. It returns a :class:`~qcertlib.signing.backends.PreparedSignature`
   whose ``digest`` is what the key signs. No key is needed.
2. The backend's :meth:`~qcertlib.signing.backends.SignerBackend.sign_digests`.
3. :func:`finish_pades` checks the signature against the certificate, builds the CMS
   container (with a signature timestamp for B-T and above), writes it into the
   reserved space, then for B-LT appends a DSS with the certificates and the exact
   OCSP responses / CRLs that :mod:`qcertlib.revocation` fetched, and for B-LTA a
   document timestamp.

Existing signatures stay valid: everything is added as incremental updates.
Large files are streamed: with ``output=`` the prepared document lives in that file
and is never read into memory. Encrypted PDFs are refused
(:class:`~qcertlib.errors.SigningError`), as are damaged ones (broken
cross-reference table), empty files and non-PDF input.

Needs the ``pdf`` extra (pyHanko).
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from qcertlib.errors import QcertError, SigningError
from qcertlib.signing import _cms
from qcertlib.signing._docs_common import (
    TimestampSource,
    default_timestamper,
    holder_display,
    pack_certs,
    pack_state,
    run_sync,
    unpack_certs,
    unpack_state,
)
from qcertlib.signing._revinfo import RevocationMaterial, fetch_for_chain, split
from qcertlib.signing.backends import SignatureMechanism
from qcertlib.signing.options import DigestAlgorithm, SignatureLevel, SignatureOptions

if TYPE_CHECKING:
    from qcertlib.signing.backends import PreparedSignature, SignerBackend

__all__ = [
    "DEFAULT_RESERVED",
    "VisibleSignature",
    "finish_pades",
    "finish_pades_file",
    "prepare_pades",
    "sign_pades",
    "sign_pades_file",
]

DEFAULT_RESERVED = 64 * 1024
"""Hex characters reserved for the signature's CMS container (32 KiB of DER)."""

_DOC_TS_RESERVED = 32 * 1024
_DEFAULT_TEXT = "Firmado por: %(holder)s\nNIF: %(nif)s\nFecha: %(ts)s"


@dataclass(frozen=True, slots=True)
class VisibleSignature:
    """Where and how to draw a visible signature.

    ``page`` counts from 0 (``-1`` = last page); ``box`` is ``(x1, y1, x2, y2)`` in PDF
    points from the lower-left corner. ``text`` may use ``%(holder)s``, ``%(nif)s``
    and ``%(ts)s`` (signing time); by default it shows all three.
    """

    page: int = 0
    box: tuple[int, int, int, int] = (40, 40, 300, 110)
    text: str = _DEFAULT_TEXT

    def __post_init__(self) -> None:
        x1, y1, x2, y2 = self.box
        if x2 <= x1 or y2 <= y1:
            raise ValueError("VisibleSignature.box must be (x1, y1, x2, y2) with x2 > x1, y2 > y1")


# --------------------------------------------------------------------------- pyHanko glue


def _make_signer(
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    mechanism: SignatureMechanism,
    signature: bytes | None,
    algorithm: DigestAlgorithm,
) -> Any:
    """A pyHanko ``Signer`` that never touches a key: it returns a given signature."""
    signing_cert, registry = _signer_certificates(cert, chain)
    # RSA-PSS: declare exactly what the backends do (MGF1 with the same hash, salt as
    # long as the digest); pyHanko's default salt differs
    mechanism_id = (
        _cms.signature_algorithm_id(mechanism, algorithm)
        if mechanism is SignatureMechanism.RSA_PSS
        else None
    )
    return _fixed_signer_class()(signing_cert, registry, mechanism_id, signature)


# DERs of (certificate, *chain) -> (asn1crypto certificate, pyHanko certificate store):
# building the store normalises every name of the chain (about 2 ms a document when a
# batch rebuilt it per PDF); the store only ever gains certificates, so sharing it
# between documents of the same signer is safe
_SIGNER_CERTS: dict[tuple[bytes, ...], tuple[Any, Any]] = {}


def _signer_certificates(
    cert: x509.Certificate, chain: Sequence[x509.Certificate]
) -> tuple[Any, Any]:
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    der = serialization.Encoding.DER
    key = (cert.public_bytes(der), *(c.public_bytes(der) for c in chain))
    entry = _SIGNER_CERTS.get(key)
    if entry is None:
        store_cls: Any = SimpleCertificateStore  # from_certs is untyped
        entry = (
            _cms.asn1_cert(cert),
            store_cls.from_certs([_cms.asn1_cert(c) for c in chain]),
        )
        if len(_SIGNER_CERTS) >= 16:
            _SIGNER_CERTS.clear()
        _SIGNER_CERTS[key] = entry
    return entry


@functools.cache
def _fixed_signer_class() -> Any:
    """The pyHanko ``Signer`` subclass behind :func:`_make_signer` (defined once)."""
    from pyhanko.sign.signers.pdf_cms import Signer

    class _FixedSigner(Signer):
        def __init__(
            self, signing_cert: Any, registry: Any, mechanism_id: Any, signature: bytes | None
        ) -> None:
            super().__init__(
                signing_cert=signing_cert,
                cert_registry=registry,
                signature_mechanism=mechanism_id,
            )
            self._qcert_signature = signature

        async def async_sign_raw(
            self, data: bytes, digest_algorithm: str, dry_run: bool = False
        ) -> bytes:
            if self._qcert_signature is None:  # pragma: no cover - prepare never signs
                raise SigningError("internal error: no signature value available yet")
            return self._qcert_signature

    return _FixedSigner


def _make_ts_adapter(source: TimestampSource) -> Any:
    """Wrap our :class:`TimestampSource` as a pyHanko ``TimeStamper``."""
    from asn1crypto import cms
    from pyhanko.sign.timestamps.api import TimeStamper

    class _Adapter(TimeStamper):
        async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> Any:
            token = source.timestamp(message_digest, DigestAlgorithm.from_name(md_algorithm))
            return cms.ContentInfo.load(token)

    adapter_cls: Any = _Adapter  # TimeStamper.__init__ is untyped
    return adapter_cls()


def _policy_spec(options: SignatureOptions) -> Any:
    if options.policy is None:
        return None
    from asn1crypto import algos
    from pyhanko.sign.ades.api import CAdESSignedAttrSpec
    from pyhanko.sign.ades.cades_asn1 import SignaturePolicyIdentifier

    pol = options.policy
    policy_id: dict[str, Any] = {
        "sig_policy_id": pol.oid.dotted_string,
        "sig_policy_hash": algos.DigestInfo(
            {
                "digest_algorithm": algos.DigestAlgorithm(
                    {"algorithm": pol.digest_algorithm.value}
                ),
                "digest": pol.digest,
            }
        ),
    }
    if pol.uri:
        policy_id["sig_policy_qualifiers"] = [
            {"sig_policy_qualifier_id": "1.2.840.113549.1.9.16.5.1", "sig_qualifier": pol.uri}
        ]
    return CAdESSignedAttrSpec(
        signature_policy_identifier=SignaturePolicyIdentifier({"signature_policy_id": policy_id})
    )


def _wrap_pdf_error(exc: Exception, what: str) -> SigningError:
    return SigningError(f"cannot {what}: the PDF is damaged or unsupported ({exc})")


def _open_writer(stream: IO[bytes]) -> Any:
    """An incremental writer over ``stream``, refusing non-PDF, damaged and encrypted input."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError

    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size == 0:
        raise SigningError("the document is empty (0 bytes); expected a PDF")
    if b"%PDF-" not in stream.read(1024):
        raise SigningError("the document is not a PDF (no %PDF- header)")
    stream.seek(0)
    try:
        writer = IncrementalPdfFileWriter(stream, strict=True)
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise _wrap_pdf_error(exc, "read the PDF") from None
    if writer.prev.encrypted:
        raise SigningError(
            "the PDF is encrypted; qcertlib does not sign encrypted PDFs "
            "(decrypt it first, e.g. with `qpdf --decrypt`)"
        )
    return writer


# --------------------------------------------------------------------------- stages


def prepare_pades(
    document: bytes | str | os.PathLike[str],
    signer_cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    options: SignatureOptions,
    *,
    output: str | os.PathLike[str] | None = None,
    mechanism: SignatureMechanism | None = None,
    visible: VisibleSignature | None = None,
    field_name: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    bytes_reserved: int = DEFAULT_RESERVED,
    signed_attrs: Callable[[bytes], bytes] | None = None,
) -> PreparedSignature:
    """Stage 1: put the PDF in its final pre-signing state and compute the digest to sign.

    ``document`` is the PDF as bytes or a path. With ``output`` (a path) the prepared
    document is streamed into that file (use :func:`finish_pades_file` afterwards);
    without it, it is kept in the returned state (use :func:`finish_pades`).
    ``mechanism`` is the backend's :class:`~qcertlib.signing.backends.SignatureMechanism`;
    by default it follows the key type. ``bytes_reserved`` is the fixed size (hex
    characters) of the signature placeholder; no dry-run signature is made.
    ``signed_attrs`` (batch hook, see :mod:`qcertlib.batch`): a function from the
    ``/ByteRange`` digest to the DER signed attributes, precomputed once per batch;
    by default pyHanko builds them for each document.
    """
    from qcertlib.signing.backends import PreparedSignature

    mech = mechanism or _cms.mechanism_for(signer_cert)
    if bytes_reserved <= 0 or bytes_reserved % 2:
        raise ValueError("bytes_reserved must be a positive even number")
    at = options.signing_time or datetime.now(UTC)
    md = options.digest.value

    try:
        from pyhanko.pdf_utils.misc import PdfError
        from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
        from pyhanko.sign.general import SigningError as HankoSigningError
        from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner
        from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
        from pyhanko.stamp import TextStampStyle
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise SigningError("PAdES needs pyHanko: pip install 'qcertlib[pdf]'") from exc

    in_stream: IO[bytes]
    if isinstance(document, bytes | bytearray):
        in_stream = io.BytesIO(bytes(document))
    else:
        try:
            in_stream = open(document, "rb")  # noqa: SIM115 - closed in finally
        except OSError as exc:
            raise SigningError(f"cannot open the document: {exc.strerror}") from None
    out_stream: IO[bytes] | None = None
    ok = False
    try:
        writer = _open_writer(in_stream)
        name = field_name or _free_field_name(writer)
        signer = _make_signer(signer_cert, chain, mech, None, options.digest)
        meta = PdfSignatureMetadata(
            field_name=name,
            md_algorithm=md,
            subfilter=SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
            cades_signed_attr_spec=_policy_spec(options),
        )
        if visible is not None:
            field_spec = SigFieldSpec(sig_field_name=name, on_page=visible.page, box=visible.box)
            style = TextStampStyle(stamp_text=visible.text, timestamp_format="%Y-%m-%d %H:%M:%S %Z")
            holder, nif = holder_display(signer_cert)
            text_params = {"holder": holder, "nif": nif or "-"}
        else:
            field_spec = SigFieldSpec(sig_field_name=name)
            style = None
            text_params = None
        pdf_signer = PdfSigner(meta, signer=signer, stamp_style=style, new_field_spec=field_spec)
        session = pdf_signer.init_signing_session(writer)
        session.system_time = at
        tbs = session.prepare_tbs_document(
            validation_info=None,
            bytes_reserved=bytes_reserved,
            appearance_text_params=text_params,
        )
        memory: io.BytesIO | None
        if output is None:
            memory = io.BytesIO()
            out_stream = memory
        else:
            memory = None
            try:
                out_stream = open(output, "w+b")  # noqa: SIM115 - closed in finally
            except OSError as exc:
                raise SigningError(f"cannot write the prepared PDF: {exc.strerror}") from None
        prepared_digest, _ = tbs.digest_tbs_document(output=out_stream)
        attrs_der: bytes
        if signed_attrs is not None:  # batch hook
            attrs_der = signed_attrs(prepared_digest.document_digest)
        else:
            attrs = run_sync(
                signer.signed_attrs(
                    prepared_digest.document_digest,
                    md,
                    attr_settings=PdfCMSSignedAttributes(
                        signing_time=None, cades_signed_attrs=meta.cades_signed_attr_spec
                    ),
                    use_pades=True,
                    is_pdf_sig=True,
                )
            )
            attrs_der = attrs.dump()
        fields = {
            "mode": b"file" if output is not None else b"memory",
            "pdf": memory.getvalue() if memory is not None else b"",
            "path": os.fsencode(os.path.abspath(output)) if output is not None else b"",
            "start": str(prepared_digest.reserved_region_start).encode(),
            "end": str(prepared_digest.reserved_region_end).encode(),
            "document_digest": prepared_digest.document_digest,
            "signed_attrs": attrs_der,
            "mechanism": mech.value.encode(),
            "field": name.encode("utf-8"),
            "cert": signer_cert.public_bytes(serialization.Encoding.DER),
            "chain": pack_certs(chain),
        }
        ok = True
    except QcertError:
        raise
    except HankoSigningError as exc:  # e.g. a certified PDF that allows no more signatures
        raise SigningError(f"cannot sign this PDF: {exc}") from None
    except (PdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise _wrap_pdf_error(exc, "prepare the PDF signature") from None
    finally:
        in_stream.close()
        if out_stream is not None:
            out_stream.close()
            if output is not None and not ok:  # never leave a partial prepared file
                Path(output).unlink(missing_ok=True)
    return PreparedSignature(
        format="pades",
        digest=options.digest.digest(attrs_der),
        algorithm=options.digest,
        state=pack_state(fields),
    )


def _free_field_name(writer: Any) -> str:
    from pyhanko.sign.fields import enumerate_sig_fields

    taken = {name for name, _, _ in enumerate_sig_fields(writer.prev, filled_status=None)}
    n = 1
    while f"Signature{n}" in taken:
        n += 1
    return f"Signature{n}"


def _finish(
    prepared: PreparedSignature,
    signature: bytes,
    options: SignatureOptions,
    out: IO[bytes],
    st: dict[str, bytes],
    timestamper: TimestampSource | None,
    revocation: Sequence[RevocationMaterial] | None,
    cms_builder: Callable[[bytes, bytes], bytes] | None = None,
) -> None:
    from asn1crypto import cms
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.general import SigningError as HankoSigningError
    from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

    if prepared.format != "pades":
        raise ValueError(f"not a PAdES prepared signature ({prepared.format})")
    cert = x509.load_der_x509_certificate(st["cert"])
    chain = unpack_certs(st["chain"])
    mech = SignatureMechanism(st["mechanism"].decode())
    _cms.check_prehashed(cert, mech, signature, prepared.digest, prepared.algorithm)
    level = options.level
    md = prepared.algorithm.value
    ts_source: TimestampSource | None = None
    if level.at_least(SignatureLevel.B_T):
        ts_source = timestamper or default_timestamper(options)
    adapter = _make_ts_adapter(ts_source) if ts_source is not None else None
    try:
        content: Any = None
        if cms_builder is not None and adapter is None:  # batch hook, B-B only
            der = cms_builder(st["signed_attrs"], signature)
        else:
            signer = _make_signer(cert, chain, mech, signature, prepared.algorithm)
            content = run_sync(
                signer.async_sign_prescribed_attributes(
                    md, cms.CMSAttributes.load(st["signed_attrs"]), timestamper=adapter
                )
            )
            der = content.dump()
        start, end = int(st["start"]), int(st["end"])
        if 2 * len(der) > end - start - 2:
            raise SigningError(
                f"the signature container ({len(der)} bytes) does not fit the reserved "
                f"space ({(end - start - 2) // 2} bytes); prepare with a larger bytes_reserved"
            )
        PreparedByteRangeDigest(
            document_digest=st["document_digest"],
            reserved_region_start=start,
            reserved_region_end=end,
        ).fill_with_cms(out, der)
        if level.at_least(SignatureLevel.B_LT):
            _add_dss(out, cert, chain, content, options, revocation)
        if level is SignatureLevel.B_LTA:
            assert adapter is not None
            out.seek(0)
            w = IncrementalPdfFileWriter(out, strict=True)
            PdfTimeStamper(adapter, field_name=_next_ts_name(w)).timestamp_pdf(
                w, md, bytes_reserved=_DOC_TS_RESERVED, in_place=True, timestamper=adapter
            )
    except QcertError:
        raise
    except (PdfError, HankoSigningError, ValueError, KeyError) as exc:
        raise SigningError(f"cannot finish the PDF signature: {exc}") from None


def _next_ts_name(writer: Any) -> str:
    from pyhanko.sign.fields import enumerate_sig_fields

    taken = {name for name, _, _ in enumerate_sig_fields(writer.prev, filled_status=None)}
    n = 1
    while f"DocTimeStamp{n}" in taken:
        n += 1
    return f"DocTimeStamp{n}"


def _tsa_certs(content: Any) -> list[x509.Certificate]:
    """Certificates inside the signature timestamp token(s) of a CMS signature."""
    out: list[x509.Certificate] = []
    signer_info = content["content"]["signer_infos"][0]
    unsigned = signer_info["unsigned_attrs"]
    if unsigned.native is None:
        return out
    for attr in unsigned:
        if attr["type"].native != "signature_time_stamp_token":
            continue
        for token in attr["values"]:
            for choice in token["content"]["certificates"]:
                if choice.name == "certificate":
                    out.append(x509.load_der_x509_certificate(choice.chosen.dump()))
    return out


def _add_dss(
    out: IO[bytes],
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    content: Any,
    options: SignatureOptions,
    revocation: Sequence[RevocationMaterial] | None,
) -> None:
    """Append a DSS with the signer and TSA chains and their revocation data."""
    from asn1crypto import crl as asn1_crl
    from asn1crypto import ocsp as asn1_ocsp
    from pyhanko.sign.validation import DocumentSecurityStore

    tsa = _tsa_certs(content)
    certs = _cms.dedupe([cert, *chain, *tsa])
    if revocation is None:
        revocation = fetch_for_chain(certs, options.revocation)
    ocsps, crls = split(revocation)
    out.seek(0)
    DocumentSecurityStore.add_dss(
        out,
        None,
        certs=[_cms.asn1_cert(c) for c in certs],
        ocsps=[asn1_ocsp.OCSPResponse.load(d) for d in ocsps],
        crls=[asn1_crl.CertificateList.load(d) for d in crls],
        force_write=True,
    )


def finish_pades(
    prepared: PreparedSignature,
    signature: bytes,
    options: SignatureOptions,
    *,
    timestamper: TimestampSource | None = None,
    revocation: Sequence[RevocationMaterial] | None = None,
    cms_builder: Callable[[bytes, bytes], bytes] | None = None,
) -> bytes:
    """Stage 3 (in memory): embed ``signature`` and return the signed PDF.

    ``timestamper`` defaults to a :class:`~qcertlib.signing.timestamps.Timestamper` on
    ``options.tsa_url`` (B-T and above). ``revocation`` is the OCSP/CRL evidence to
    put in the DSS for B-LT/B-LTA (results of :mod:`qcertlib.revocation`); by default
    it is fetched for the signer's and the TSA's chains with ``options.revocation``.
    ``cms_builder`` (batch hook, B-B only): builds the CMS container from the DER
    signed attributes and the signature value instead of pyHanko.
    """
    st = unpack_state(prepared.state)
    if st.get("mode") != b"memory":
        raise ValueError("this signature was prepared into a file: use finish_pades_file")
    out = io.BytesIO(st["pdf"])
    _finish(prepared, signature, options, out, st, timestamper, revocation, cms_builder)
    return out.getvalue()


def finish_pades_file(
    prepared: PreparedSignature,
    signature: bytes,
    options: SignatureOptions,
    *,
    timestamper: TimestampSource | None = None,
    revocation: Sequence[RevocationMaterial] | None = None,
    cms_builder: Callable[[bytes, bytes], bytes] | None = None,
) -> Path:
    """Stage 3 (streaming): complete the file given as ``output`` to :func:`prepare_pades`.

    Returns its path. On failure the incomplete file is removed.
    ``cms_builder`` (batch hook, B-B only): builds the CMS container from the DER
    signed attributes and the signature value instead of pyHanko.
    """
    st = unpack_state(prepared.state)
    if st.get("mode") != b"file":
        raise ValueError("this signature was prepared in memory: use finish_pades")
    path = Path(os.fsdecode(st["path"]))
    try:
        with open(path, "r+b") as out:
            _finish(prepared, signature, options, out, st, timestamper, revocation, cms_builder)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise SigningError(f"cannot write the signed PDF: {exc.strerror}") from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def sign_pades(
    document: bytes,
    backend: SignerBackend,
    options: SignatureOptions,
    *,
    visible: VisibleSignature | None = None,
    field_name: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    bytes_reserved: int = DEFAULT_RESERVED,
    timestamper: TimestampSource | None = None,
    revocation: Sequence[RevocationMaterial] | None = None,
) -> bytes:
    """Sign a PDF held in memory: prepare, one ``sign_digests`` call, finish.

    ``bytes_reserved`` (hex characters for the CMS container) only needs raising for
    very large certificate chains or timestamp tokens.
    """
    prepared = prepare_pades(
        document,
        backend.certificate,
        backend.chain,
        options,
        mechanism=backend.mechanism,
        visible=visible,
        field_name=field_name,
        reason=reason,
        location=location,
        bytes_reserved=bytes_reserved,
    )
    (signature,) = backend.sign_digests([prepared.digest], prepared.algorithm)
    return finish_pades(
        prepared, signature, options, timestamper=timestamper, revocation=revocation
    )


def sign_pades_file(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    backend: SignerBackend,
    options: SignatureOptions,
    *,
    visible: VisibleSignature | None = None,
    field_name: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    bytes_reserved: int = DEFAULT_RESERVED,
    timestamper: TimestampSource | None = None,
    revocation: Sequence[RevocationMaterial] | None = None,
) -> Path:
    """Sign a PDF file into ``output``, streaming (memory use independent of the file size).

    ``output`` must differ from ``source``; it is removed again if signing fails.
    """
    if os.path.abspath(source) == os.path.abspath(output):
        raise ValueError("output must not be the input file")
    try:
        prepared = prepare_pades(
            source,
            backend.certificate,
            backend.chain,
            options,
            output=output,
            mechanism=backend.mechanism,
            visible=visible,
            field_name=field_name,
            reason=reason,
            location=location,
            bytes_reserved=bytes_reserved,
        )
        (signature,) = backend.sign_digests([prepared.digest], prepared.algorithm)
    except BaseException:
        Path(output).unlink(missing_ok=True)
        raise
    return finish_pades_file(
        prepared, signature, options, timestamper=timestamper, revocation=revocation
    )
