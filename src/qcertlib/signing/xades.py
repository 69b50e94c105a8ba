"""XAdES signatures (ETSI EN 319 132-1) on XML and other documents, with signxml and lxml.

Three packagings (:class:`XadesPackaging`): *enveloped* (the signature goes inside
the signed XML document, as Facturae e-invoices require), *enveloping* (the XML is
carried inside the signature) and *detached* (the signature references an external
document of any type by URI and digests its bytes).

Levels: B-B (``SigningTime``, ``SigningCertificateV2``, ``DataObjectFormat``,
optional ``SignaturePolicyIdentifier`` for EPES), B-T (``SignatureTimeStamp`` over
the canonicalised ``ds:SignatureValue``), B-LT (``CertificateValues`` and
``RevocationValues`` with the exact OCSP responses / CRLs that
:mod:`qcertlib.revocation` verified). B-LTA (archive timestamps) is not implemented
for XAdES and is refused with :class:`~qcertlib.errors.SigningError`.

Three stages like every format: :func:`prepare_xades` builds the whole signature with
a placeholder value and returns the digest of the canonicalised ``ds:SignedInfo``;
the backend signs it; :func:`finish_xades` writes the value and the unsigned
properties. Canonicalisation is inclusive C14N 1.0.

Untrusted XML is parsed with DTD loading, entity resolution and network access off;
a document that declares entities or an external DTD is refused
(:class:`~qcertlib.errors.SigningError` when signing,
:class:`~qcertlib.errors.ValidationInputError` when validating).

Needs the ``xades`` extra (signxml, lxml).
"""

from __future__ import annotations

import base64
import enum
import importlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from qcertlib.errors import QcertError, SigningError
from qcertlib.signing import _cms
from qcertlib.signing._docs_common import (
    TimestampSource,
    default_timestamper,
    pack_certs,
    pack_state,
    unpack_certs,
    unpack_state,
)
from qcertlib.signing._revinfo import RevocationMaterial, fetch_for_chain, split
from qcertlib.signing.backends import SignatureMechanism
from qcertlib.signing.options import DigestAlgorithm, SignatureLevel, SignatureOptions

if TYPE_CHECKING:
    from qcertlib.signing.backends import PreparedSignature, SignerBackend

__all__ = [
    "DS_NS",
    "XADES_NS",
    "XadesPackaging",
    "finish_xades",
    "parse_xml",
    "prepare_xades",
    "sign_xades",
]

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
_DIGEST_URI = {
    DigestAlgorithm.SHA256: "http://www.w3.org/2001/04/xmlenc#sha256",
    DigestAlgorithm.SHA384: "http://www.w3.org/2001/04/xmldsig-more#sha384",
    DigestAlgorithm.SHA512: "http://www.w3.org/2001/04/xmlenc#sha512",
}


class XadesPackaging(enum.Enum):
    """Where the signature sits relative to the signed data."""

    ENVELOPED = "enveloped"
    """Inside the signed XML document (Facturae)."""
    ENVELOPING = "enveloping"
    """The XML document is inside the signature (``ds:Object``)."""
    DETACHED = "detached"
    """Separate from the document, which is referenced by URI (any content type)."""


# --------------------------------------------------------------------------- safe parsing


def _etree() -> Any:
    """``lxml.etree`` (imported lazily; lxml ships no type information)."""
    return importlib.import_module("lxml.etree")


def parse_xml(data: bytes, *, error: type[QcertError] = SigningError) -> Any:
    """Parse untrusted XML without DTDs, entity expansion or network access.

    Empty input, malformed XML, entity declarations and external DTDs raise ``error``.
    Returns the root ``lxml`` element.
    """
    etree = _etree()

    if not data.strip():
        raise error("the document is empty; expected XML")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )
    try:
        tree = etree.ElementTree(etree.fromstring(data, parser))
    except etree.XMLSyntaxError as exc:
        raise error(f"the document is not well-formed XML ({exc})") from None
    docinfo = tree.docinfo
    dtd = docinfo.internalDTD
    if docinfo.system_url or docinfo.public_id:
        raise error("the XML document references an external DTD; refused for safety")
    if dtd is not None and (list(dtd.iterentities()) or list(dtd.elements())):
        raise error("the XML document declares a DTD with entities or elements; refused for safety")
    for node in tree.iter():
        if isinstance(node, etree._Entity):
            raise error("the XML document uses entity references; refused for safety")
    return tree.getroot()


# --------------------------------------------------------------------------- signxml glue


class _CaptureKey:
    """Stands in for the private key inside signxml: records what would be signed."""

    def __init__(self, cert: x509.Certificate) -> None:
        self._public = cert.public_key()
        if not isinstance(self._public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            raise SigningError(f"unsupported signer key type {type(self._public).__name__}")
        self.key_size = self._public.key_size
        self.captured: bytes | None = None

    def public_key(self) -> Any:
        return self._public

    def sign(self, data: bytes, *args: Any, **kwargs: Any) -> bytes:
        self.captured = data
        if isinstance(self._public, ec.EllipticCurvePublicKey):
            return encode_dss_signature(1, 1)
        return b"\0" * ((self.key_size + 7) // 8)


def _signature_method(mechanism: SignatureMechanism, alg: DigestAlgorithm) -> str:
    if mechanism is SignatureMechanism.ECDSA:
        return f"ecdsa-{alg.value}"
    if mechanism is SignatureMechanism.RSA_PSS:
        return f"{alg.value}-rsa-MGF1"
    return f"rsa-{alg.value}"


def _make_signer(
    packaging: XadesPackaging,
    mechanism: SignatureMechanism,
    options: SignatureOptions,
    at: datetime,
    mime_type: str,
    policy_description: str | None,
    claimed_role: str | None = None,
    signing_certificate_v1: bool = False,
) -> Any:
    from signxml.algorithms import SignatureConstructionMethod
    from signxml.xades.xades import XAdESDataObjectFormat, XAdESSigner

    SubElement = _etree().SubElement

    method = {
        XadesPackaging.ENVELOPED: SignatureConstructionMethod.enveloped,
        XadesPackaging.ENVELOPING: SignatureConstructionMethod.enveloping,
        XadesPackaging.DETACHED: SignatureConstructionMethod.detached,
    }[packaging]
    policy = options.policy

    def q(ns: str, tag: str) -> str:
        return f"{{{ns}}}{tag}"

    class _Signer(XAdESSigner):
        def add_signing_certificate(self, props: Any, sig_root: Any, signing_settings: Any) -> None:
            if not signing_certificate_v1:
                super().add_signing_certificate(props, sig_root, signing_settings)
                return
            # XAdES 1.3.2 SigningCertificate: the signer's certificate only, with
            # IssuerSerial (what older Facturae validators expect)
            cert = signing_settings.cert_chain[0]
            der = cert.public_bytes(serialization.Encoding.DER)
            sc = SubElement(props, q(XADES_NS, "SigningCertificate"), nsmap=self.namespaces)
            node = SubElement(sc, q(XADES_NS, "Cert"), nsmap=self.namespaces)
            digest = SubElement(node, q(XADES_NS, "CertDigest"), nsmap=self.namespaces)
            SubElement(
                digest,
                q(DS_NS, "DigestMethod"),
                nsmap=self.namespaces,
                Algorithm=_DIGEST_URI[options.digest],
            )
            value = SubElement(digest, q(DS_NS, "DigestValue"), nsmap=self.namespaces)
            value.text = base64.b64encode(options.digest.digest(der)).decode()
            serial = SubElement(node, q(XADES_NS, "IssuerSerial"), nsmap=self.namespaces)
            issuer = SubElement(serial, q(DS_NS, "X509IssuerName"), nsmap=self.namespaces)
            issuer.text = cert.issuer.rfc4514_string()
            number = SubElement(serial, q(DS_NS, "X509SerialNumber"), nsmap=self.namespaces)
            number.text = str(cert.serial_number)

        def add_signing_time(self, props: Any, sig_root: Any, signing_settings: Any) -> None:
            node = SubElement(props, q(XADES_NS, "SigningTime"), nsmap=self.namespaces)
            node.text = at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

        def add_signature_policy_identifier(
            self, props: Any, sig_root: Any, signing_settings: Any
        ) -> None:
            if policy is None:
                return
            spi = SubElement(props, q(XADES_NS, "SignaturePolicyIdentifier"), nsmap=self.namespaces)
            spid = SubElement(spi, q(XADES_NS, "SignaturePolicyId"), nsmap=self.namespaces)
            sig_policy_id = SubElement(spid, q(XADES_NS, "SigPolicyId"), nsmap=self.namespaces)
            ident = SubElement(sig_policy_id, q(XADES_NS, "Identifier"), nsmap=self.namespaces)
            if policy.uri:
                ident.text = policy.uri
            else:
                ident.set("Qualifier", "OIDAsURN")
                ident.text = f"urn:oid:{policy.oid.dotted_string}"
            if policy_description:
                desc = SubElement(sig_policy_id, q(XADES_NS, "Description"), nsmap=self.namespaces)
                desc.text = policy_description
            phash = SubElement(spid, q(XADES_NS, "SigPolicyHash"), nsmap=self.namespaces)
            SubElement(
                phash,
                q(DS_NS, "DigestMethod"),
                nsmap=self.namespaces,
                Algorithm=_DIGEST_URI[policy.digest_algorithm],
            )
            value = SubElement(phash, q(DS_NS, "DigestValue"), nsmap=self.namespaces)
            value.text = base64.b64encode(policy.digest).decode()
            if policy.uri:
                quals = SubElement(spid, q(XADES_NS, "SigPolicyQualifiers"), nsmap=self.namespaces)
                qual = SubElement(quals, q(XADES_NS, "SigPolicyQualifier"), nsmap=self.namespaces)
                spuri = SubElement(qual, q(XADES_NS, "SPURI"), nsmap=self.namespaces)
                spuri.text = policy.uri

    return _Signer(
        method=method,
        signature_algorithm=_signature_method(mechanism, options.digest),
        digest_algorithm=options.digest.value,
        c14n_algorithm=C14N_10,
        data_object_format=XAdESDataObjectFormat(
            Description="Documento firmado", MimeType=mime_type
        ),
        claimed_roles=[claimed_role] if claimed_role else None,
    )


def _c14n(node: Any) -> bytes:
    out: bytes = _etree().tostring(node, method="c14n", exclusive=False, with_comments=False)
    return out


def _find_signature(root: Any, sig_id: str) -> Any:
    if root.tag == f"{{{DS_NS}}}Signature" and root.get("Id") == sig_id:
        return root
    for node in root.iter(f"{{{DS_NS}}}Signature"):
        if node.get("Id") == sig_id:
            return node
    raise ValueError("the prepared signature is not in the prepared document")


def _child(node: Any, ns: str, tag: str) -> Any:
    found = node.find(f"{{{ns}}}{tag}")
    if found is None:
        raise ValueError(f"missing {tag}")
    return found


# --------------------------------------------------------------------------- stages


def prepare_xades(
    document: bytes,
    signer_cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    options: SignatureOptions,
    *,
    packaging: XadesPackaging = XadesPackaging.ENVELOPED,
    mechanism: SignatureMechanism | None = None,
    reference_uri: str | None = None,
    mime_type: str | None = None,
    policy_description: str | None = None,
    claimed_role: str | None = None,
    signing_certificate_v1: bool = False,
) -> PreparedSignature:
    """Stage 1: build the XAdES signature with a placeholder value; return the digest to sign.

    ``document`` is XML for enveloped/enveloping, any bytes for detached (then
    ``reference_uri`` — e.g. the file name — is required: it is how a verifier finds
    the document). ``mime_type`` goes into ``DataObjectFormat``
    (``text/xml`` / ``application/octet-stream`` by default). ``policy_description``
    is the optional ``Description`` of an EPES policy (``options.policy``).
    ``claimed_role`` adds ``SignerRole/ClaimedRoles`` (Facturae: ``"emisor"``,
    ``"receptor"`` or ``"tercero"``); ``signing_certificate_v1`` writes the XAdES 1.3.2
    ``SigningCertificate`` (signer only, with ``IssuerSerial``) instead of
    ``SigningCertificateV2``, for validators that expect it.
    """
    from qcertlib.signing.backends import PreparedSignature

    if options.level is SignatureLevel.B_LTA:
        raise SigningError("XAdES B-LTA (archive timestamps) is not supported; use B-LT")
    mech = mechanism or _cms.mechanism_for(signer_cert)
    at = options.signing_time or datetime.now(UTC)
    if packaging is XadesPackaging.DETACHED:
        if not reference_uri:
            raise ValueError("a detached XAdES signature needs reference_uri (e.g. the file name)")
        if not document:
            raise SigningError("the document is empty")
        data: Any = None
        mime = mime_type or "application/octet-stream"
    else:
        data = parse_xml(document)
        mime = mime_type or "text/xml"
    try:
        etree = _etree()
        signer = _make_signer(
            packaging,
            mech,
            options,
            at,
            mime,
            policy_description,
            claimed_role,
            signing_certificate_v1,
        )
        key = _CaptureKey(signer_cert)
        if packaging is XadesPackaging.DETACHED:
            data = etree.Element("Detached")
        result = signer.sign(data, key=key, cert=[signer_cert, *chain], always_add_key_value=False)
        sig = (
            result
            if result.tag == f"{{{DS_NS}}}Signature"
            else next(result.iter(f"{{{DS_NS}}}Signature"))
        )
        signed_info = _child(sig, DS_NS, "SignedInfo")
        if packaging is XadesPackaging.DETACHED:
            ref = _child(signed_info, DS_NS, "Reference")
            ref.set("URI", reference_uri)
            transforms = ref.find(f"{{{DS_NS}}}Transforms")
            if transforms is not None:
                ref.remove(transforms)
            _child(ref, DS_NS, "DigestValue").text = base64.b64encode(
                options.digest.digest(document)
            ).decode()
        xml = etree.tostring(result, xml_declaration=True, encoding="UTF-8")
        sig_id = sig.get("Id")
        reparsed = _find_signature(parse_xml(xml), sig_id)
        signed_info_c14n = _c14n(_child(reparsed, DS_NS, "SignedInfo"))
    except QcertError:
        raise
    except (ValueError, TypeError, KeyError, StopIteration, _etree().LxmlError) as exc:
        # e.g. a relative namespace URI, which XML canonicalisation refuses
        raise SigningError(f"cannot prepare the XAdES signature: {exc}") from None
    if packaging is not XadesPackaging.DETACHED and key.captured != signed_info_c14n:
        raise SigningError("internal error: SignedInfo changed after serialisation")
    fields = {
        "xml": xml,
        "sig_id": sig_id.encode(),
        "mechanism": mech.value.encode(),
        "cert": signer_cert.public_bytes(serialization.Encoding.DER),
        "chain": pack_certs(chain),
    }
    return PreparedSignature(
        format="xades",
        digest=options.digest.digest(signed_info_c14n),
        algorithm=options.digest,
        state=pack_state(fields),
    )


def _xmldsig_value(cert: x509.Certificate, signature: bytes) -> bytes:
    """XMLDSig wants ECDSA as raw r||s, not DER."""
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        r, s = decode_dss_signature(signature)
        size = (key.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return signature


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def finish_xades(
    prepared: PreparedSignature,
    signature: bytes,
    options: SignatureOptions,
    *,
    timestamper: TimestampSource | None = None,
    revocation: Sequence[RevocationMaterial] | None = None,
) -> bytes:
    """Stage 3: write the signature value and the unsigned properties; return the XML.

    B-T adds a ``SignatureTimeStamp`` from ``timestamper`` (default: a
    :class:`~qcertlib.signing.timestamps.Timestamper` on ``options.tsa_url``); B-LT
    adds ``CertificateValues`` and ``RevocationValues`` (``revocation``, or fetched for
    the signer's and TSA's chains with ``options.revocation``).
    """
    etree = _etree()
    SubElement = etree.SubElement
    if prepared.format != "xades":
        raise ValueError(f"not a XAdES prepared signature ({prepared.format})")
    st = unpack_state(prepared.state)
    cert = x509.load_der_x509_certificate(st["cert"])
    chain = unpack_certs(st["chain"])
    mech = SignatureMechanism(st["mechanism"].decode())
    _cms.check_prehashed(cert, mech, signature, prepared.digest, prepared.algorithm)
    level = options.level
    if level is SignatureLevel.B_LTA:
        raise SigningError("XAdES B-LTA (archive timestamps) is not supported; use B-LT")
    root = parse_xml(st["xml"])
    sig = _find_signature(root, st["sig_id"].decode())
    value_node = _child(sig, DS_NS, "SignatureValue")
    value_node.text = _b64(_xmldsig_value(cert, signature))
    sig_id = sig.get("Id")
    value_node.set("Id", f"{sig_id}-SignatureValue")
    if level.at_least(SignatureLevel.B_T):
        qprops = next(sig.iter(f"{{{XADES_NS}}}QualifyingProperties"))
        unsigned = SubElement(qprops, f"{{{XADES_NS}}}UnsignedProperties")
        usp = SubElement(unsigned, f"{{{XADES_NS}}}UnsignedSignatureProperties")
        ts_source = timestamper or default_timestamper(options)
        token = ts_source.timestamp(
            prepared.algorithm.digest(_c14n(value_node)), prepared.algorithm
        )
        sts = SubElement(
            usp, f"{{{XADES_NS}}}SignatureTimeStamp", Id=f"{sig_id}-SignatureTimeStamp"
        )
        SubElement(sts, f"{{{DS_NS}}}CanonicalizationMethod", Algorithm=C14N_10)
        SubElement(sts, f"{{{XADES_NS}}}EncapsulatedTimeStamp").text = _b64(token)
        if level.at_least(SignatureLevel.B_LT):
            tsa_certs = _token_certs(token)
            certs = _cms.dedupe([cert, *chain, *tsa_certs])
            if revocation is None:
                revocation = fetch_for_chain(certs, options.revocation)
            ocsps, crls = split(revocation)
            values = SubElement(usp, f"{{{XADES_NS}}}CertificateValues")
            for c in certs:
                SubElement(values, f"{{{XADES_NS}}}EncapsulatedX509Certificate").text = _b64(
                    c.public_bytes(serialization.Encoding.DER)
                )
            rev = SubElement(usp, f"{{{XADES_NS}}}RevocationValues")
            if crls:
                crl_values = SubElement(rev, f"{{{XADES_NS}}}CRLValues")
                for der in crls:
                    SubElement(crl_values, f"{{{XADES_NS}}}EncapsulatedCRLValue").text = _b64(der)
            if ocsps:
                ocsp_values = SubElement(rev, f"{{{XADES_NS}}}OCSPValues")
                for der in ocsps:
                    SubElement(ocsp_values, f"{{{XADES_NS}}}EncapsulatedOCSPValue").text = _b64(der)
    out: bytes = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    return out


def _token_certs(token: bytes) -> list[x509.Certificate]:
    sd = _cms.load_signed_data(token)
    return _cms.certificates_of(sd)


def sign_xades(
    document: bytes,
    backend: SignerBackend,
    options: SignatureOptions,
    *,
    packaging: XadesPackaging = XadesPackaging.ENVELOPED,
    reference_uri: str | None = None,
    mime_type: str | None = None,
    policy_description: str | None = None,
    claimed_role: str | None = None,
    signing_certificate_v1: bool = False,
    timestamper: TimestampSource | None = None,
    revocation: Sequence[RevocationMaterial] | None = None,
) -> bytes:
    """Sign a document: prepare, one ``sign_digests`` call, finish. Returns the XML."""
    prepared = prepare_xades(
        document,
        backend.certificate,
        backend.chain,
        options,
        packaging=packaging,
        mechanism=backend.mechanism,
        reference_uri=reference_uri,
        mime_type=mime_type,
        policy_description=policy_description,
        claimed_role=claimed_role,
        signing_certificate_v1=signing_certificate_v1,
    )
    (signature,) = backend.sign_digests([prepared.digest], prepared.algorithm)
    return finish_xades(
        prepared, signature, options, timestamper=timestamper, revocation=revocation
    )
