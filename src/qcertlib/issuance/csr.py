"""Certificate signing requests: build one from a holder and a profile, verify one.

:func:`verify_csr` checks, in this order, that the CSR parses, that its signature
verifies with its own key (proof of possession), that the key is strong enough (the
profile's rule, or the generic floor RSA >= 2048 / EC P-256, P-384), and — given a
holder and a profile — that the requested subject is exactly the one the profile
builds for that holder. Each failure is a :class:`~qcertlib.errors.CsrError` or
:class:`~qcertlib.errors.WeakKeyError` with a message saying what is wrong.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from qcertlib.errors import CsrError
from qcertlib.issuance.keys import PrivateKey, PublicKey, check_key_strength, describe_key
from qcertlib.profiles import CertificateProfile, Holder

__all__ = ["build_csr", "load_csr", "verify_csr"]


def _hash_for(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def build_csr(
    holder: Holder, profile: CertificateProfile, key: PrivateKey
) -> x509.CertificateSigningRequest:
    """A CSR for *holder* under *profile*, signed with *key*.

    The subject is the one the profile builds for the holder; the key is checked
    against the profile first (:class:`~qcertlib.errors.WeakKeyError`).
    """
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise TypeError("key must be an RSA or EC private key")
    profile.check_key(key.public_key())
    subject = profile.subject_for(holder)
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, _hash_for(key))


def load_csr(data: bytes) -> x509.CertificateSigningRequest:
    """Load a CSR from PEM or DER; :class:`~qcertlib.errors.CsrError` if malformed."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError("CSR data must be bytes")
    raw = bytes(data)
    try:
        if b"-----BEGIN" in raw:
            return x509.load_pem_x509_csr(raw)
        return x509.load_der_x509_csr(raw)
    except ValueError:
        raise CsrError("the input is not a well-formed PKCS#10 certificate request") from None


def _differences(got: x509.Name, want: x509.Name) -> str:
    def attrs(name: x509.Name) -> list[tuple[str, str]]:
        return [(attr.oid.dotted_string, str(attr.value)) for attr in name]

    have, need = attrs(got), attrs(want)
    missing = [f"{oid}={value!r}" for oid, value in need if (oid, value) not in have]
    extra = [f"{oid}={value!r}" for oid, value in have if (oid, value) not in need]
    parts = []
    if missing:
        parts.append("missing or different: " + ", ".join(missing))
    if extra:
        parts.append("unexpected: " + ", ".join(extra))
    return "; ".join(parts) if parts else "attribute order or encoding differs"


def verify_csr(
    csr: x509.CertificateSigningRequest | bytes,
    holder: Holder | None = None,
    profile: CertificateProfile | None = None,
) -> PublicKey:
    """Check a CSR and return its public key.

    * signature: must verify with the CSR's own key (:class:`~qcertlib.errors.CsrError`);
    * key: the profile's ``check_key`` or, without a profile, RSA >= 2048 / EC P-256,
      P-384 (:class:`~qcertlib.errors.WeakKeyError`);
    * subject: with *holder* (which needs *profile*), it must equal
      ``profile.subject_for(holder)`` (:class:`~qcertlib.errors.CsrError`).
    """
    request = csr if isinstance(csr, x509.CertificateSigningRequest) else load_csr(csr)
    if holder is not None and profile is None:
        raise ValueError("checking the CSR subject against a holder needs the profile")
    try:
        public_key = request.public_key()
    except (ValueError, TypeError):
        raise CsrError("the CSR's public key cannot be decoded") from None
    if not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise CsrError(
            f"the CSR holds a {describe_key(public_key)} key: only RSA and EC keys are certified"
        )
    try:
        valid = request.is_signature_valid
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise CsrError(
            "the CSR signature does not verify: it was altered or not signed with its own key"
        )
    if profile is not None:
        profile.check_key(public_key)
    else:
        check_key_strength(public_key)
    if holder is not None and profile is not None:
        expected = profile.subject_for(holder)
        if request.subject != expected:
            raise CsrError(
                f"the CSR subject does not match the holder for profile {profile.name}: "
                + _differences(request.subject, expected)
            )
    return public_key
