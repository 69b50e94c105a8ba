"""Validation of XAdES signatures (ETSI EN 319 102-1 verdicts).

For each ``ds:Signature`` :func:`validate_xml`:

1. finds the signer certificate in ``ds:KeyInfo`` (the one whose digest is in
   ``SigningCertificateV2`` / ``SigningCertificate``) — else ``INDETERMINATE /
   NO_SIGNING_CERTIFICATE_FOUND``;
2. checks the signature against the XMLDSig / XAdES schemas (else ``TOTAL_FAILED /
   FORMAT_FAILURE``) and verifies the XMLDSig core with signxml's XAdES verifier
   using that certificate:
   a reference whose digest does not match (altered document or properties) is
   ``TOTAL_FAILED / HASH_FAILURE``, a bad signature value ``TOTAL_FAILED /
   SIG_CRYPTO_FAILURE``; a detached reference needs ``content`` (else
   ``INDETERMINATE / SIGNED_DATA_NOT_FOUND``);
3. verifies the ``SignatureTimeStamp`` (imprint over the canonicalised
   ``ds:SignatureValue``, TSA certificate, chain); its genTime is the proven time;
4. builds the path to the trust roots and checks validity and revocation exactly as
   :func:`~qcertlib.validation.validate_cms` does, with the certificates of
   ``KeyInfo`` / ``CertificateValues`` and the OCSP responses / CRLs of
   ``RevocationValues`` (fetched too when ``policy.fetch_revocation``);
5. reports the level: B-B, B-T (valid timestamp), B-LT (every certificate and
   revocation answer of the signer and TSA paths embedded).

Unreadable input (empty, not XML, DTDs with entities, external DTDs) raises
:class:`~qcertlib.errors.ValidationInputError`. Needs the ``xades`` extra.
"""

from __future__ import annotations

import base64
import binascii
import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography import x509

from qcertlib.errors import TimestampError, ValidationInputError
from qcertlib.signing import _cms
from qcertlib.signing.options import DigestAlgorithm, SignatureLevel
from qcertlib.signing.xades import DS_NS, XADES_NS, parse_xml
from qcertlib.validation.report import (
    Indication,
    RevocationStatus,
    SignatureReport,
    SubIndication,
    ValidationPolicy,
    ValidationReport,
)

__all__ = ["validate_xml"]

_DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": DigestAlgorithm.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": DigestAlgorithm.SHA384,
    "http://www.w3.org/2001/04/xmlenc#sha512": DigestAlgorithm.SHA512,
}
_EXCLUSIVE = "http://www.w3.org/2001/10/xml-exc-c14n#"


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _b64(text: str | None) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("bad base64 in the signature") from None


def _certs(nodes: Any) -> list[x509.Certificate]:
    out = []
    for node in nodes:
        try:
            cert = x509.load_der_x509_certificate(_b64(node.text))
            _ = (cert.subject, cert.issuer, cert.extensions)  # parsed lazily
        except ValueError:
            continue
        out.append(cert)
    return out


def _c14n(node: Any, algorithm: str | None) -> bytes:
    from lxml import etree  # type: ignore[import-untyped]  # lxml ships no stubs

    exclusive = bool(algorithm and algorithm.startswith(_EXCLUSIVE))
    with_comments = bool(algorithm and algorithm.endswith("#WithComments"))
    out: bytes = etree.tostring(
        node, method="c14n", exclusive=exclusive, with_comments=with_comments
    )
    return out


def _signer_certificate(sig: Any, candidates: list[x509.Certificate]) -> x509.Certificate | None:
    """The KeyInfo certificate named by SigningCertificate(V2), else the only leaf."""
    digests: list[tuple[DigestAlgorithm, bytes]] = []
    for tag in ("SigningCertificateV2", "SigningCertificate"):
        for cert_node in sig.iter(_q(XADES_NS, tag)):
            for cd in cert_node.iter(_q(XADES_NS, "CertDigest")):
                method = cd.find(_q(DS_NS, "DigestMethod"))
                alg = _DIGESTS.get(method.get("Algorithm") if method is not None else "")
                value = cd.findtext(_q(DS_NS, "DigestValue"))
                if alg is not None and value:
                    try:
                        digests.append((alg, _b64(value)))
                    except ValueError:
                        continue
    from cryptography.hazmat.primitives import serialization

    for cert in candidates:
        der = cert.public_bytes(serialization.Encoding.DER)
        for alg, value in digests:
            if alg.digest(der) == value and not _is_ca(cert):
                return cert
    return None


def _is_ca(cert: x509.Certificate) -> bool:
    from qcertlib.signing._chain import is_ca

    return is_ca(cert)


def _signing_time(sig: Any) -> datetime | None:
    text = sig.findtext(f".//{_q(XADES_NS, 'SigningTime')}")
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.utcoffset() is not None else None


def validate_xml(
    data: bytes,
    policy: ValidationPolicy | None = None,
    *,
    content: bytes | None = None,
    name: str = "document.xml",
) -> ValidationReport:
    """Validate every XAdES signature of an XML document; see the module documentation.

    ``content`` is the external document of a detached signature (ignored otherwise).
    """
    policy = policy or ValidationPolicy()
    root = parse_xml(data, error=ValidationInputError)
    is_sig = root.tag == _q(DS_NS, "Signature")
    sigs = [root] if is_sig else list(root.iter(_q(DS_NS, "Signature")))
    reports = []
    lxml_error: type[Exception] = importlib.import_module("lxml.etree").LxmlError
    if sigs:
        try:
            reports.append(_validate_one(root, sigs[0], content, policy))
        except (ValueError, TypeError, KeyError, lxml_error) as exc:  # damaged data
            reports.append(
                _fail(
                    Indication.TOTAL_FAILED,
                    SubIndication.FORMAT_FAILURE,
                    f"the signature data is malformed ({exc})",
                )
            )
    for n, _ in enumerate(sigs[1:], 2):
        reports.append(
            _fail(
                Indication.INDETERMINATE,
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                f"signature {n} not validated: qcertlib validates one XAdES signature "
                "per document (the first)",
            )
        )
    return ValidationReport(name, tuple(reports))


def _fail(indication: Indication, sub: SubIndication, message: str, **kw: Any) -> SignatureReport:
    return SignatureReport(indication, sub, messages=(message,), format="xades", **kw)


def _validate_one(
    root: Any, sig: Any, content: bytes | None, policy: ValidationPolicy
) -> SignatureReport:
    from asn1crypto import cms

    from qcertlib.validation.cms import _Context, _Verdict

    signing_time = _signing_time(sig)
    keyinfo_certs = _certs(sig.iter(_q(DS_NS, "X509Certificate")))
    value_certs = _certs(sig.iter(_q(XADES_NS, "EncapsulatedX509Certificate")))
    cert = _signer_certificate(sig, keyinfo_certs)
    if cert is None:
        return _fail(
            Indication.INDETERMINATE,
            SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
            "no KeyInfo certificate matches the SigningCertificate property",
            signing_time=signing_time,
        )
    verdict = _Verdict()
    level = _verify_core(root, sig, cert, content, verdict)
    empty = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [],
            "encap_content_info": {"content_type": "data"},
            "signer_infos": [],
        }
    )
    # reuse the CAdES validator's path / validity / revocation logic on our material
    ctx = _Context(empty, None, policy)
    ctx.embedded = _cms.dedupe([*keyinfo_certs, *value_certs])
    ctx.pool = _cms.dedupe([*ctx.embedded, *policy.intermediates])
    ctx.ocsps = _values(sig, "EncapsulatedOCSPValue")
    ctx.crls = _values(sig, "EncapsulatedCRLValue")
    summary, lint = ctx._describe(cert)
    ts = None
    rev = RevocationStatus.NOT_CHECKED
    if verdict.indication is Indication.TOTAL_PASSED:
        ts = _timestamp(sig, ctx, verdict)
        if ts is not None and level is SignatureLevel.B_B:
            level = SignatureLevel.B_T
        rev, lt = ctx._chain_and_revocation(cert, signing_time, ts, verdict)
        if lt and level is SignatureLevel.B_T:
            level = SignatureLevel.B_LT
    if sig.find(f".//{_q(XADES_NS, 'SignaturePolicyIdentifier')}") is not None:
        ident = sig.findtext(f".//{_q(XADES_NS, 'SigPolicyId')}/{_q(XADES_NS, 'Identifier')}")
        verdict.messages.append(f"explicit signature policy (EPES) {ident}")
    return SignatureReport(
        verdict.indication,
        verdict.sub,
        level=level,
        signer=summary,
        signing_time=signing_time,
        timestamp_time=ts.gen_time if ts is not None else None,
        revocation_status=rev,
        lint=lint,
        messages=tuple(verdict.messages),
        signer_certificate=cert,
        format="xades",
    )


def _values(sig: Any, tag: str) -> list[bytes]:
    out = []
    for node in sig.iter(_q(XADES_NS, tag)):
        try:
            out.append(_b64(node.text))
        except ValueError:
            continue
    return out


def _verify_core(
    root: Any,
    sig: Any,
    cert: x509.Certificate,
    content: bytes | None,
    verdict: Any,
) -> SignatureLevel | None:
    """XMLDSig core validation with signxml; the level B-B when it and XAdES pass."""
    from signxml.exceptions import InvalidDigest, InvalidInput, InvalidSignature, SignXMLException
    from signxml.xades.xades import XAdESVerifier

    detached = [
        ref.get("URI")
        for ref in sig.iter(_q(DS_NS, "Reference"))
        if ref.get("URI") and not ref.get("URI", "").startswith("#")
    ]
    if detached and content is None:
        verdict.fail(
            Indication.INDETERMINATE,
            SubIndication.SIGNED_DATA_NOT_FOUND,
            f"detached signature: the signed document ({detached[0]}) was not given",
        )
        return None
    resolver: Callable[[str], bytes] | None = None
    if detached:
        assert content is not None
        doc = content

        def resolve(uri: str) -> bytes:
            return doc

        resolver = resolve
    doc_invalid: type[Exception] = importlib.import_module("lxml.etree").DocumentInvalid
    target = sig if sig is root else root
    n_refs = len(sig.findall(f"{_q(DS_NS, 'SignedInfo')}/{_q(DS_NS, 'Reference')}"))
    from signxml.xades.xades import XAdESSignatureConfiguration

    try:
        XAdESVerifier().verify(
            target,
            x509_cert=cert,
            uri_resolver=resolver,
            validate_schema=True,
            expect_config=XAdESSignatureConfiguration(expect_references=n_refs),
        )
    except InvalidDigest as exc:
        verdict.fail(
            Indication.TOTAL_FAILED,
            SubIndication.HASH_FAILURE,
            f"a signed reference does not match its digest (altered data?): {exc}",
        )
        return None
    except InvalidSignature as exc:
        if "certificate" in str(exc).lower() and "expired" in str(exc).lower():
            verdict.messages.append(f"certificate validity: {exc}")
        else:
            verdict.fail(
                Indication.TOTAL_FAILED,
                SubIndication.SIG_CRYPTO_FAILURE,
                f"the signature value does not verify: {exc}",
            )
            return None
    except (InvalidInput, SignXMLException, doc_invalid, ValueError, KeyError) as exc:
        verdict.fail(
            Indication.TOTAL_FAILED,
            SubIndication.FORMAT_FAILURE,
            f"not a valid XAdES signature: {exc}",
        )
        return None
    return SignatureLevel.B_B


def _timestamp(sig: Any, ctx: Any, verdict: Any) -> Any:
    from qcertlib.signing.timestamps import token_info, verify_token

    sts = sig.find(f".//{_q(XADES_NS, 'SignatureTimeStamp')}")
    if sts is None:
        return None
    value = sig.find(_q(DS_NS, "SignatureValue"))
    method = sts.find(_q(DS_NS, "CanonicalizationMethod"))
    algorithm = method.get("Algorithm") if method is not None else None
    try:
        token = _b64(sts.findtext(_q(XADES_NS, "EncapsulatedTimeStamp")))
        _, alg, _ = token_info(token)
        return verify_token(
            token,
            alg.digest(_c14n(value, algorithm)),
            alg,
            trust_roots=ctx.policy.trust_roots,
            intermediates=ctx.pool,
        )
    except (TimestampError, ValueError) as exc:
        verdict.messages.append(f"signature timestamp ignored: {exc}")
        return None
