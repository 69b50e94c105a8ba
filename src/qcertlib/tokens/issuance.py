"""The card issuance flow: key generated on the token, CSR signed by the token,
certificate issued by a :class:`~qcertlib.issuance.CertificateAuthority` and stored
back on the token next to its key.

``cryptography``'s CSR builder needs a private key object, which a token key is
not; :func:`build_token_csr` therefore builds the PKCS#10
``CertificationRequestInfo`` with asn1crypto, has the token sign its hash, and
checks the result with :func:`qcertlib.issuance.verify_csr` (signature, key
strength and subject) before anything is issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import algos as asn1_algos
from asn1crypto import csr as asn1_csr
from asn1crypto import x509 as asn1_x509
from cryptography import x509

from qcertlib.errors import ProfileError
from qcertlib.issuance import CertificateAuthority, KeySpec, verify_csr
from qcertlib.signing.options import DigestAlgorithm
from qcertlib.tokens.session import KeyInfo, KeyType, TokenSession, public_key_info

__all__ = ["TokenIssuance", "build_token_csr", "issue_on_token"]


def _digest_for(key: KeyInfo) -> DigestAlgorithm:
    if key.key_type == KeyType.EC and key.size >= 384:
        return DigestAlgorithm.SHA384
    return DigestAlgorithm.SHA256


def build_token_csr(
    session: TokenSession, key: KeyInfo, holder: Any, profile: Any
) -> x509.CertificateSigningRequest:
    """A PKCS#10 request for *holder* under *profile*, signed by the token *key*.

    The subject is ``profile.subject_for(holder)``; the key is checked with
    ``profile.check_key`` first (:class:`~qcertlib.errors.WeakKeyError`). The
    request is verified with :func:`~qcertlib.issuance.verify_csr` before it is
    returned.
    """
    prof = CertificateAuthority.resolve_profile(profile)
    public_key = session.public_key(key)
    prof.check_key(public_key)
    subject = asn1_x509.Name.load(prof.subject_for(holder).public_bytes())
    info = asn1_csr.CertificationRequestInfo(
        {
            "version": "v1",
            "subject": subject,
            "subject_pk_info": public_key_info(public_key),
            "attributes": [],
        }
    )
    algorithm = _digest_for(key)
    tbs = info.dump()
    signature = session.sign_digests(key, [algorithm.digest(tbs)], algorithm)[0]
    kind = "ecdsa" if key.key_type == KeyType.EC else "rsa"
    request = asn1_csr.CertificationRequest(
        {
            "certification_request_info": info,
            "signature_algorithm": asn1_algos.SignedDigestAlgorithm(
                {"algorithm": f"{algorithm.value}_{kind}"}
            ),
            "signature": signature,
        }
    )
    csr = x509.load_der_x509_csr(request.dump())
    verify_csr(csr, holder, prof)
    return csr


@dataclass(frozen=True, slots=True)
class TokenIssuance:
    """The outcome of :func:`issue_on_token`."""

    certificate: x509.Certificate
    key: KeyInfo
    key_generated: bool
    csr: x509.CertificateSigningRequest


def issue_on_token(
    ca: CertificateAuthority,
    profile: Any,
    holder: Any,
    *,
    session: TokenSession,
    key_label: str,
    key_spec: KeySpec = KeySpec.EC_P256,
    always_authenticate: bool = False,
    store_chain: bool = True,
    months: int | None = None,
    at: datetime | None = None,
) -> TokenIssuance:
    """Issue a QSCD certificate for the token key *key_label* and store it on the token.

    The key is generated on the token (non-extractable, sensitive) when no key has
    that label; the CSR is signed by the token key; *ca* issues under *profile*
    (which must be a QSCD profile such as ``citizen-qscd`` or ``eorgan-seal-qscd``:
    :class:`~qcertlib.errors.ProfileError` otherwise) and the certificate replaces
    any earlier one stored under the key's label and id. With *store_chain* the CA's
    chain (issuing CA, root) is stored on the token too, as cards carry it, so
    signing tools find it there. *session* must be read/write.
    """
    prof = CertificateAuthority.resolve_profile(profile)
    if not getattr(prof, "qscd", False):
        raise ProfileError(
            f"profile {prof.name} is not a QSCD profile: a key on a token is certified"
            " with a -qscd profile (citizen-qscd, eorgan-seal-qscd)"
        )
    generated = False
    if any(k.label == key_label for k in session.list_keys()):
        key = session.find_key(label=key_label)
    else:
        key = session.generate_key(
            key_spec, label=key_label, always_authenticate=always_authenticate
        )
        generated = True
    csr = build_token_csr(session, key, holder, prof)
    certificate = ca.issue(prof, holder, csr, months=months, at=at)
    session.store_certificate(certificate, key=key, replace=True)
    if store_chain:
        for authority in ca.chain:
            name = authority.subject.rfc4514_string()
            session.store_ca_certificate(authority, label=name[:64])
    return TokenIssuance(certificate=certificate, key=key, key_generated=generated, csr=csr)
