"""CMS building blocks shared by CAdES, the RFC 3161 code and the CMS validator (private).

Everything here is pure: asn1crypto structures in, bytes or booleans out.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning

from qcertlib.signing.backends import SignatureMechanism
from qcertlib.signing.options import DigestAlgorithm

__all__ = [
    "asn1_cert",
    "attr_values",
    "crypto_cert",
    "digest_algorithm_id",
    "find_certificate",
    "mechanism_for",
    "signature_algorithm_id",
    "signed_attrs_der",
    "signing_certificate_matches",
    "verify_signature",
]

#: What asn1crypto (and cryptography's loaders) raise on malformed input.
MALFORMED: tuple[type[Exception], ...] = (
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    UnsupportedAlgorithm,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
)

_CERT_ERRORS: tuple[type[Exception], ...] = (*MALFORMED, CryptographyDeprecationWarning)

# asn1crypto reports digest algorithms by name
_NAMES = {"sha256": DigestAlgorithm.SHA256, "sha384": DigestAlgorithm.SHA384}
_NAMES["sha512"] = DigestAlgorithm.SHA512
# SHA-1 only to *check* legacy ESSCertID (signing-certificate v1) in tokens of other TSAs
_EXTRA_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),  # noqa: S303
    "sha224": hashes.SHA224(),
}


def hash_for_name(name: str) -> hashes.HashAlgorithm:
    """A cryptography hash for an asn1crypto digest name (:class:`ValueError` if unknown)."""
    if name in _NAMES:
        return _NAMES[name].hash
    if name in _EXTRA_HASHES:
        return _EXTRA_HASHES[name]
    raise ValueError(f"unsupported digest algorithm {name}")


def digest_with(name: str, data: bytes | memoryview) -> bytes:
    """Hash ``data`` with the algorithm asn1crypto calls ``name``."""
    h = hashes.Hash(hash_for_name(name))
    h.update(data)
    return h.finalize()


def digest_algorithm_id(alg: DigestAlgorithm) -> algos.DigestAlgorithm:
    """The AlgorithmIdentifier of a digest (parameters absent, as RFC 5754 prefers)."""
    return algos.DigestAlgorithm({"algorithm": alg.value})


def mechanism_for(cert: x509.Certificate) -> SignatureMechanism:
    """The default mechanism for a certificate's key type."""
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return SignatureMechanism.RSA_PKCS1V15
    if isinstance(key, ec.EllipticCurvePublicKey):
        return SignatureMechanism.ECDSA
    raise ValueError(f"unsupported signer key type {type(key).__name__}")


def signature_algorithm_id(
    mechanism: SignatureMechanism, alg: DigestAlgorithm
) -> algos.SignedDigestAlgorithm:
    """The SignerInfo ``signatureAlgorithm`` for a mechanism and digest."""
    if mechanism is SignatureMechanism.ECDSA:
        return algos.SignedDigestAlgorithm({"algorithm": f"{alg.value}_ecdsa"})
    if mechanism is SignatureMechanism.RSA_PSS:
        params = algos.RSASSAPSSParams(
            {
                "hash_algorithm": {"algorithm": alg.value},
                "mask_gen_algorithm": {
                    "algorithm": "mgf1",
                    "parameters": {"algorithm": alg.value},
                },
                "salt_length": alg.digest_size,
            }
        )
        return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": params})
    return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15", "parameters": core.Null()})


def verify_signature(
    public_key: Any,
    signature_algorithm: algos.SignedDigestAlgorithm,
    digest_name: str,
    data: bytes,
    signature: bytes,
) -> bool:
    """Verify a CMS signature over ``data``; False on any mismatch or unsupported case."""
    try:
        algo = signature_algorithm["algorithm"].native
        if algo == "rsassa_pss":
            if not isinstance(public_key, rsa.RSAPublicKey):
                return False
            params = signature_algorithm["parameters"]
            h = hash_for_name(params["hash_algorithm"]["algorithm"].native)
            mgf_h = hash_for_name(params["mask_gen_algorithm"]["parameters"]["algorithm"].native)
            pad = padding.PSS(mgf=padding.MGF1(mgf_h), salt_length=params["salt_length"].native)
            public_key.verify(signature, data, pad, h)
            return True
        sig_algo = signature_algorithm.signature_algo
        hash_name = digest_name
        with contextlib.suppress(ValueError):
            hash_name = signature_algorithm.hash_algo
        h = hash_for_name(hash_name)
        if sig_algo == "rsassa_pkcs1v15" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), h)
            return True
        if sig_algo == "ecdsa" and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(h))
            return True
    except (InvalidSignature, ValueError, TypeError, KeyError):
        return False
    return False


def signed_attrs_der(signer_info: cms.SignerInfo) -> bytes:
    """The signed attributes exactly as received, re-tagged as SET (RFC 5652, 5.4)."""
    contents = signer_info["signed_attrs"].contents
    return b"\x31" + _der_length(len(contents)) + bytes(contents)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def attr_values(attrs: Any, name: str) -> list[Any]:
    """Values of the attributes called ``name`` (asn1crypto name or dotted OID)."""
    out: list[Any] = []
    if attrs is None or isinstance(attrs, core.Void):
        return out
    for attr in attrs:
        if attr["type"].native == name or attr["type"].dotted == name:
            out.extend(attr["values"])
    return out


def asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    """cryptography -> asn1crypto certificate."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def crypto_cert(cert: asn1_x509.Certificate) -> x509.Certificate:
    """asn1crypto -> cryptography certificate."""
    return x509.load_der_x509_certificate(cert.dump())


def signing_certificate_matches(signed_attrs: Any, cert: x509.Certificate) -> bool | None:
    """Check signing-certificate(-v2) against ``cert``: None if absent, else match or not."""
    der = cert.public_bytes(serialization.Encoding.DER)
    for value in attr_values(signed_attrs, "signing_certificate_v2"):
        first = value["certs"][0]
        name = first["hash_algorithm"]["algorithm"].native
        return bool(digest_with(name, der) == first["cert_hash"].native)
    for value in attr_values(signed_attrs, "signing_certificate"):
        first = value["certs"][0]
        return bool(digest_with("sha1", der) == first["cert_hash"].native)
    return None


def find_certificate(
    sid: cms.SignerIdentifier, pool: Iterable[x509.Certificate]
) -> x509.Certificate | None:
    """The certificate named by a SignerIdentifier (issuerAndSerial or subjectKeyIdentifier)."""
    pool = list(pool)
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"].dump()
        serial = sid.chosen["serial_number"].native
        for cert in pool:
            if cert.serial_number == serial and asn1_cert(cert).issuer.dump() == issuer:
                return cert
        return None
    ski = sid.chosen.native
    for cert in pool:
        try:
            ext = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        except x509.ExtensionNotFound:
            continue
        if ext.value.digest == ski:
            return cert
    return None


def certificates_of(signed_data: cms.SignedData) -> list[x509.Certificate]:
    """The X.509 certificates carried in a SignedData (other choices ignored)."""
    out: list[x509.Certificate] = []
    certs = signed_data["certificates"]
    if isinstance(certs, core.Void):
        return out
    for choice in certs:
        if choice.name == "certificate":
            try:
                with warnings.catch_warnings():
                    # cryptography warns (an error under -W error) on a non-positive
                    # serial number, which RFC 5280 forbids: skip such a certificate
                    warnings.simplefilter("error", CryptographyDeprecationWarning)
                    cert = crypto_cert(choice.chosen)
                    _ = cert.serial_number
            except _CERT_ERRORS:
                continue
            out.append(cert)
    return out


def dedupe(certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """Remove duplicate certificates, keeping the first occurrence."""
    seen: set[bytes] = set()
    out = []
    for cert in certs:
        der = cert.public_bytes(serialization.Encoding.DER)
        if der not in seen:
            seen.add(der)
            out.append(cert)
    return out


def attribute(name: str, values: list[Any]) -> cms.CMSAttribute:
    """A CMS attribute known to asn1crypto by name."""
    return cms.CMSAttribute({"type": name, "values": values})


def build_signer_info(
    cert: x509.Certificate,
    alg: DigestAlgorithm,
    signed_attrs: cms.CMSAttributes,
    signature: bytes,
    mechanism: SignatureMechanism,
    unsigned_attrs: Sequence[cms.CMSAttribute] = (),
) -> cms.SignerInfo:
    """A version-1 SignerInfo identifying ``cert`` by issuer and serial number."""
    a = asn1_cert(cert)
    fields: dict[str, Any] = {
        "version": "v1",
        "sid": cms.SignerIdentifier(
            {
                "issuer_and_serial_number": {
                    "issuer": a.issuer,
                    "serial_number": a.serial_number,
                }
            }
        ),
        "digest_algorithm": digest_algorithm_id(alg),
        "signed_attrs": signed_attrs,
        "signature_algorithm": signature_algorithm_id(mechanism, alg),
        "signature": signature,
    }
    if unsigned_attrs:
        fields["unsigned_attrs"] = cms.CMSAttributes(list(unsigned_attrs))
    return cms.SignerInfo(fields)


def build_signed_data(
    *,
    content_type: str,
    content: bytes | memoryview | None,
    digest_algorithms: Sequence[DigestAlgorithm],
    certificates: Sequence[x509.Certificate],
    signer_infos: Sequence[cms.SignerInfo],
    crls: Sequence[bytes] = (),
    ocsp_responses: Sequence[bytes] = (),
) -> bytes:
    """DER of a ContentInfo(SignedData); ``content`` None makes it detached.

    CRLs go in ``crls`` as CertificateList, OCSP responses as
    OtherRevocationInfoFormat id-ri-ocsp-response (RFC 5940).
    """
    from asn1crypto import crl as asn1_crl
    from asn1crypto import ocsp as asn1_ocsp

    encap: dict[str, Any] = {"content_type": content_type}
    if content is not None and content_type != "data":
        encap["content"] = core.ParsableOctetString(bytes(content))
    revs: list[Any] = [
        cms.RevocationInfoChoice({"crl": asn1_crl.CertificateList.load(c)}) for c in crls
    ]
    revs += [
        cms.RevocationInfoChoice(
            {
                "other": {
                    "other_rev_info_format": "ocsp_response",
                    "other_rev_info": asn1_ocsp.OCSPResponse.load(o),
                }
            }
        )
        for o in ocsp_responses
    ]
    # RFC 5652 5.1: version 5 with "other" revocation info; 3 when eContentType is not data
    if ocsp_responses:
        version = "v5"
    elif content_type != "data":
        version = "v3"
    else:
        version = "v1"
    sd: dict[str, Any] = {
        "version": version,
        "digest_algorithms": [digest_algorithm_id(a) for a in dict.fromkeys(digest_algorithms)],
        "encap_content_info": encap,
        "signer_infos": list(signer_infos),
    }
    if certificates:
        sd["certificates"] = [
            cms.CertificateChoices({"certificate": asn1_cert(c)}) for c in dedupe(certificates)
        ]
    if revs:
        sd["crls"] = revs
    info = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(sd)})
    der = bytes(info.dump())
    if content is not None and content_type == "data":
        # splice the (possibly large) content in ourselves: asn1crypto would copy it
        # several times over while encoding
        der = _splice_content(der, content)
    return der


def der_read(data: bytes | memoryview, pos: int) -> tuple[int, int, int]:
    """(tag, start of contents, end) of the DER element at ``pos`` (:class:`ValueError`)."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag = data[pos]
    length = data[pos + 1]
    start = pos + 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 8 or start + n > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[start : start + n], "big")
        start += n
    if start + length > len(data):
        raise ValueError("truncated DER")
    return tag, start, start + length


def _splice_content(detached: bytes, content: bytes | memoryview) -> bytes:
    """Put ``content`` as eContent into a detached ContentInfo(SignedData), fixing lengths."""
    _t, ci_start, _ci_end = der_read(detached, 0)
    _t, _s, oid_end = der_read(detached, ci_start)  # contentType
    _t, a0_start, _a0_end = der_read(detached, oid_end)  # [0] EXPLICIT
    _t, sd_start, sd_end = der_read(detached, a0_start)  # SignedData
    _t, _s, pos = der_read(detached, sd_start)  # version
    _t, _s, encap_start = der_read(detached, pos)  # digestAlgorithms
    _t, e_start, encap_end = der_read(detached, encap_start)  # EncapsulatedContentInfo
    e_type = detached[e_start:encap_end]  # eContentType only (detached)
    os_hdr = b"\x04" + _der_length(len(content))
    a0c_hdr = b"\xa0" + _der_length(len(os_hdr) + len(content))
    encap_len = len(e_type) + len(a0c_hdr) + len(os_hdr) + len(content)
    encap_hdr = b"\x30" + _der_length(encap_len)
    sd_len = (encap_start - sd_start) + len(encap_hdr) + encap_len + (sd_end - encap_end)
    sd_hdr = b"\x30" + _der_length(sd_len)
    a0_hdr = b"\xa0" + _der_length(len(sd_hdr) + sd_len)
    ci_len = (oid_end - ci_start) + len(a0_hdr) + len(sd_hdr) + sd_len
    parts: list[bytes | memoryview] = [
        b"\x30" + _der_length(ci_len),
        detached[ci_start:oid_end],
        a0_hdr,
        sd_hdr,
        detached[sd_start:encap_start],
        encap_hdr,
        e_type,
        a0c_hdr,
        os_hdr,
        content,
        detached[encap_end:sd_end],
    ]
    return b"".join(parts)


def load_signed_data(der: bytes) -> cms.SignedData:
    """Parse a ContentInfo(SignedData) fully; :class:`ValueError` if it is not one."""
    info = cms.ContentInfo.load(der, strict=True)
    if info["content_type"].native != "signed_data":
        raise ValueError(f"content type is {info['content_type'].native}, not signed data")
    sd = info["content"]
    # parse the parts every caller needs now, so malformed input fails here
    # (a full ``.native`` would re-encode every certificate and CRL: far too slow)
    _ = sd["version"].native, sd["encap_content_info"]["content_type"].native
    for si in sd["signer_infos"]:
        _ = si["sid"].native, si["digest_algorithm"].native, si["signature"].native
        _ = si["signature_algorithm"].native
    return sd


def revocation_values(signed_data: cms.SignedData) -> tuple[list[bytes], list[bytes]]:
    """(CRLs, OCSP responses) as DER from SignedData.crls."""
    crls: list[bytes] = []
    ocsps: list[bytes] = []
    revs = signed_data["crls"]
    if isinstance(revs, core.Void):
        return crls, ocsps
    for choice in revs:
        if choice.name == "crl":
            crls.append(bytes(choice.chosen.dump()))
        elif choice.name == "other":
            other = choice.chosen
            if other["other_rev_info_format"].dotted == "1.3.6.1.5.5.7.16.2":
                ocsps.append(bytes(other["other_rev_info"].dump()))
    return crls, ocsps


def check_prehashed(
    cert: x509.Certificate,
    mechanism: SignatureMechanism,
    signature: bytes,
    digest: bytes,
    alg: DigestAlgorithm,
) -> None:
    """Raise :class:`~qcertlib.errors.SigningError` unless ``signature`` over ``digest``
    verifies with ``cert`` (catches a backend whose key does not match)."""
    from cryptography.hazmat.primitives.asymmetric import utils

    from qcertlib._certs import public_key
    from qcertlib.errors import SigningError

    key = public_key(cert)
    prehashed = utils.Prehashed(alg.hash)
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, digest, ec.ECDSA(prehashed))
            return
        if isinstance(key, rsa.RSAPublicKey):
            pad: padding.AsymmetricPadding = padding.PKCS1v15()
            if mechanism is SignatureMechanism.RSA_PSS:
                pad = padding.PSS(mgf=padding.MGF1(alg.hash), salt_length=alg.digest_size)
            key.verify(signature, digest, pad, prehashed)
            return
    except InvalidSignature:
        raise SigningError(
            "the signature from the signer backend does not verify with the signer "
            "certificate (wrong key or mechanism?)"
        ) from None
    raise SigningError(f"unsupported signer key type {type(key).__name__}")


# -- hand-made DER for the hot path (asn1crypto re-encodes nested SETs very slowly) --


def der_tlv(tag: int, content: bytes) -> bytes:
    """One DER element."""
    return bytes([tag]) + _der_length(len(content)) + content


def der_set_of(elements: Iterable[bytes]) -> bytes:
    """A DER SET OF: elements sorted by their encodings (X.690 11.6)."""
    return der_tlv(0x31, b"".join(sorted(elements)))


def encode_attribute(dotted: str, values: Sequence[bytes]) -> bytes:
    """Attribute ::= SEQUENCE { attrType OID, attrValues SET OF ANY } from value DERs."""
    return der_tlv(0x30, core.ObjectIdentifier(dotted).dump() + der_set_of(values))


def signing_certificate_v2_der(cert: x509.Certificate, alg: DigestAlgorithm) -> bytes:
    """SigningCertificateV2 { certs { ESSCertIDv2 (hash, issuerSerial) } } (RFC 5035)."""
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    general_names = der_tlv(0x30, der_tlv(0xA4, cert.issuer.public_bytes()))
    issuer_serial = der_tlv(0x30, general_names + core.Integer(cert.serial_number).dump())
    # hashAlgorithm DEFAULT sha256 is omitted in DER
    hash_alg = b"" if alg is DigestAlgorithm.SHA256 else digest_algorithm_id(alg).dump()
    ess = der_tlv(0x30, hash_alg + der_tlv(0x04, alg.digest(cert_der)) + issuer_serial)
    return der_tlv(0x30, der_tlv(0x30, ess))


def split_content(der: bytes) -> tuple[bytes, memoryview | None]:
    """Separate an attached eContent from a ContentInfo(SignedData) without copying it.

    Returns (the DER with the eContent removed, a view of the content bytes). When
    there is no eContent, or it is not a plain DER OCTET STRING, returns
    ``(der, None)`` and the caller parses the original as usual. asn1crypto copies
    every nested level while parsing; this keeps a large attached document to one
    copy (the caller's).
    """
    try:
        _t, ci_start, ci_end = der_read(der, 0)
        _t, _s, oid_end = der_read(der, ci_start)
        _t, a0_start, _a0_end = der_read(der, oid_end)
        _t, sd_start, sd_end = der_read(der, a0_start)
        _t, _s, pos = der_read(der, sd_start)  # version
        _t, _s, encap_start = der_read(der, pos)  # digestAlgorithms
        _t, e_start, encap_end = der_read(der, encap_start)
        _t, _s, type_end = der_read(der, e_start)  # eContentType
        if type_end == encap_end:
            return der, None  # detached
        tag, c_start, c_end = der_read(der, type_end)
        if tag != 0xA0 or c_end != encap_end:
            return der, None
        tag, os_start, os_end = der_read(der, c_start)
        if tag != 0x04 or os_end != c_end or ci_end != len(der):
            return der, None
    except ValueError:
        return der, None
    e_type = der[e_start:type_end]
    encap = b"\x30" + _der_length(len(e_type)) + e_type
    sd_body = der[sd_start:encap_start] + encap + der[encap_end:sd_end]
    sd = b"\x30" + _der_length(len(sd_body)) + sd_body
    a0 = b"\xa0" + _der_length(len(sd)) + sd
    ci_body = der[ci_start:oid_end] + a0
    detached = b"\x30" + _der_length(len(ci_body)) + ci_body
    return detached, memoryview(der)[os_start:os_end]
