"""The profile model: frozen value objects that describe a certificate profile as data.

A :class:`CertificateProfile` says, field by field, what a leaf certificate issued
under it contains: the subject attributes (as templates over the holder's data),
the subjectAltName content, the accepted keys, key usage, extended key usage,
certificate policies with their qualifiers, the QC statements, where AIA/CRLDP
point to, and the allowed validity. The catalog (:mod:`qcertlib.profiles.catalog`)
is a list of such objects; adding a profile is adding data.

The pure methods of :class:`CertificateProfile` turn a holder
(:class:`~qcertlib.profiles.holders.Citizen` or
:class:`~qcertlib.profiles.holders.PublicBody`) into a subject name and the full list
of leaf extensions. They do no I/O and take no clock.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from qcertlib import qcstatements as qcs
from qcertlib.errors import HolderDataError, ProfileError, ValidityError, WeakKeyError
from qcertlib.oids import EtsiPolicyOID
from qcertlib.oids import ExtensionOID as QExt
from qcertlib.profiles.holders import Citizen, Holder, HolderKind, PublicBody, holder_fields

__all__ = [
    "MAX_LEGAL_VALIDITY_MONTHS",
    "AttributeRule",
    "CertificateProfile",
    "EkuRule",
    "EtsiKeyUsageType",
    "KeyRule",
    "KeyUsageBit",
    "KeyUsageRule",
    "PdsEntry",
    "PkiUrls",
    "PolicyRule",
    "QcRule",
    "SanRule",
    "ValidityRule",
    "render_template",
]

#: Spain, Ley 6/2020 art. 4.2: a qualified certificate is valid for at most five years.
MAX_LEGAL_VALIDITY_MONTHS = 60


# --------------------------------------------------------------------------- templates

_FIELD = re.compile(r"\{([a-z_0-9]+)\}")


def render_template(template: str, fields: Mapping[str, str | None]) -> str | None:
    """Render a holder template; ``None`` when a field outside ``[...]`` is missing.

    ``{name}`` is replaced by the holder field *name*. A bracketed section
    ``[...]`` is dropped when any field inside it is missing (``None`` or empty),
    e.g. ``"{first_surname}[ {second_surname}]"``. Brackets do not nest.

    >>> render_template("{a}[ {b}] - {c}", {"a": "X", "b": None, "c": "1"})
    'X - 1'
    """
    out: list[str] = []
    pos = 0
    for match in re.finditer(r"\[([^\[\]]*)\]", template):
        rendered = _render_plain(template[pos : match.start()], fields)
        if rendered is None:
            return None
        out.append(rendered)
        optional = _render_plain(match.group(1), fields)
        if optional is not None:
            out.append(optional)
        pos = match.end()
    tail = _render_plain(template[pos:], fields)
    if tail is None:
        return None
    out.append(tail)
    return "".join(out)


def _render_plain(text: str, fields: Mapping[str, str | None]) -> str | None:
    missing = False

    def repl(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name not in fields:
            raise ProfileError(f"profile template refers to unknown holder field {{{name}}}")
        value = fields[name]
        if not value:
            missing = True
            return ""
        return value

    result = _FIELD.sub(repl, text)
    return None if missing else result


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class AttributeRule:
    """One name attribute (subject or SAN directory name) built from holder data.

    ``template`` uses :func:`render_template`. ``required`` attributes whose template
    cannot be rendered make the holder unusable (:class:`HolderDataError`); optional
    ones are left out. ``upper`` upper-cases the value (Spanish TSP practice).
    """

    oid: x509.ObjectIdentifier
    template: str
    required: bool = True
    upper: bool = False

    def render(self, fields: Mapping[str, str | None]) -> str | None:
        """The attribute value for *fields*, or ``None`` when optional and missing."""
        value = render_template(self.template, fields)
        if value is None or not value.strip():
            if self.required:
                raise HolderDataError(
                    f"the holder lacks data for the required attribute {self.oid.dotted_string}"
                )
            return None
        return value.upper() if self.upper else value


@dataclass(frozen=True, slots=True)
class SanRule:
    """subjectAltName content: an rfc822Name and/or one directory name of attributes."""

    email: str | None = "{email}"
    email_required: bool = False
    directory_name: tuple[AttributeRule, ...] = ()
    rationale: str = ""


class KeyUsageBit(enum.Enum):
    """The keyUsage bits (RFC 5280 §4.2.1.3) by cryptography's argument names."""

    DIGITAL_SIGNATURE = "digital_signature"
    CONTENT_COMMITMENT = "content_commitment"
    KEY_ENCIPHERMENT = "key_encipherment"
    DATA_ENCIPHERMENT = "data_encipherment"
    KEY_AGREEMENT = "key_agreement"
    KEY_CERT_SIGN = "key_cert_sign"
    CRL_SIGN = "crl_sign"
    ENCIPHER_ONLY = "encipher_only"
    DECIPHER_ONLY = "decipher_only"


_DS = KeyUsageBit.DIGITAL_SIGNATURE
_NR = KeyUsageBit.CONTENT_COMMITMENT
_KE = KeyUsageBit.KEY_ENCIPHERMENT
_KA = KeyUsageBit.KEY_AGREEMENT


class EtsiKeyUsageType(enum.Enum):
    """Key-usage types of EN 319 412-2 §4.3.2 Table 1 (reused by EN 319 412-3).

    ``A`` nonRepudiation; ``B`` nR + dS; ``C`` dS; ``D`` dS + (kE or kA);
    ``E`` kE or kA; ``F`` nR + dS + (kE or kA). B, D and F are "mixed" usage.
    """

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"

    @property
    def content_commitment(self) -> bool:
        """Whether the type is allowed for content commitment (A, B or F)."""
        return self in (EtsiKeyUsageType.A, EtsiKeyUsageType.B, EtsiKeyUsageType.F)

    @property
    def mixed(self) -> bool:
        """Whether ETSI calls the type "mixed usage" (B, D, F)."""
        return self in (EtsiKeyUsageType.B, EtsiKeyUsageType.D, EtsiKeyUsageType.F)

    @classmethod
    def classify(cls, bits: frozenset[KeyUsageBit]) -> EtsiKeyUsageType | None:
        """The one type *bits* match exactly, or ``None`` (an unknown setting)."""
        for kind, allowed in _ETSI_TYPES.items():
            if bits in allowed:
                return kind
        return None


_ETSI_TYPES: dict[EtsiKeyUsageType, tuple[frozenset[KeyUsageBit], ...]] = {
    EtsiKeyUsageType.A: (frozenset({_NR}),),
    EtsiKeyUsageType.B: (frozenset({_NR, _DS}),),
    EtsiKeyUsageType.C: (frozenset({_DS}),),
    EtsiKeyUsageType.D: (frozenset({_DS, _KE}), frozenset({_DS, _KA})),
    EtsiKeyUsageType.E: (frozenset({_KE}), frozenset({_KA})),
    EtsiKeyUsageType.F: (frozenset({_NR, _DS, _KE}), frozenset({_NR, _DS, _KA})),
}


def key_usage_bits(ku: x509.KeyUsage) -> frozenset[KeyUsageBit]:
    """The set bits of a cryptography :class:`~cryptography.x509.KeyUsage`."""
    bits: set[KeyUsageBit] = set()
    for bit in KeyUsageBit:
        if bit in (KeyUsageBit.ENCIPHER_ONLY, KeyUsageBit.DECIPHER_ONLY):
            if ku.key_agreement and getattr(ku, bit.value):
                bits.add(bit)
            continue
        if getattr(ku, bit.value):
            bits.add(bit)
    return frozenset(bits)


@dataclass(frozen=True, slots=True)
class KeyUsageRule:
    """keyUsage of the profile: the bits (an ETSI type) and why they were chosen."""

    bits: frozenset[KeyUsageBit]
    critical: bool = True
    rationale: str = ""

    @property
    def etsi_type(self) -> EtsiKeyUsageType | None:
        """The EN 319 412-2 type the bits form."""
        return EtsiKeyUsageType.classify(self.bits)

    def bits_for(self, public_key: object) -> frozenset[KeyUsageBit]:
        """The bits for *public_key*: keyEncipherment becomes keyAgreement for EC keys.

        RFC 5480 §3 allows only digitalSignature, nonRepudiation and keyAgreement
        with an EC key; both forms are the same ETSI type (D or F).
        """
        if isinstance(public_key, ec.EllipticCurvePublicKey) and _KE in self.bits:
            return (self.bits - {_KE}) | {_KA}
        return self.bits

    def extension(self, public_key: object = None) -> x509.KeyUsage:
        """The cryptography extension value (for *public_key*, see :meth:`bits_for`)."""
        b = self.bits_for(public_key)
        return x509.KeyUsage(
            digital_signature=_DS in b,
            content_commitment=_NR in b,
            key_encipherment=_KE in b,
            data_encipherment=KeyUsageBit.DATA_ENCIPHERMENT in b,
            key_agreement=_KA in b,
            key_cert_sign=KeyUsageBit.KEY_CERT_SIGN in b,
            crl_sign=KeyUsageBit.CRL_SIGN in b,
            encipher_only=KeyUsageBit.ENCIPHER_ONLY in b,
            decipher_only=KeyUsageBit.DECIPHER_ONLY in b,
        )


@dataclass(frozen=True, slots=True)
class EkuRule:
    """extendedKeyUsage (never critical: EN 319 412-2 GEN-4.3.10-1)."""

    usages: tuple[x509.ObjectIdentifier, ...]
    rationale: str = ""


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One certificate policy with optional CPS URI and user-notice qualifiers.

    ``match_prefix`` lets the linter accept any version of a versioned TSP policy
    (ACCV ``1.3.6.1.4.1.8149.3.<type>.<version>.0``) when checking a certificate.
    """

    oid: x509.ObjectIdentifier
    cps_uri: str | None = None
    user_notice: str | None = None
    match_prefix: x509.ObjectIdentifier | None = None

    def matches(self, oid: x509.ObjectIdentifier) -> bool:
        """Whether a policy OID found in a certificate satisfies this rule."""
        if oid == self.oid:
            return True
        if self.match_prefix is None:
            return False
        prefix = self.match_prefix.dotted_string + "."
        return oid.dotted_string.startswith(prefix)

    def policy_information(self) -> x509.PolicyInformation:
        """The cryptography value, qualifiers in CPS-then-notice order."""
        qualifiers: list[str | x509.UserNotice] = []
        if self.cps_uri:
            qualifiers.append(self.cps_uri)
        if self.user_notice:
            qualifiers.append(x509.UserNotice(None, self.user_notice))
        return x509.PolicyInformation(self.oid, qualifiers or None)


@dataclass(frozen=True, slots=True)
class PdsEntry:
    """A PKI Disclosure Statement location: an https URL and its ISO 639-1 language."""

    url: str
    language: str


@dataclass(frozen=True, slots=True)
class QcRule:
    """QC statements of the profile (EN 319 412-5)."""

    qc_type: x509.ObjectIdentifier
    sscd: bool
    pds: tuple[PdsEntry, ...]
    retention_years: int | None = 15
    semantics_identifier: x509.ObjectIdentifier | None = None
    compliance: bool = True


@dataclass(frozen=True, slots=True)
class KeyRule:
    """Accepted subject keys: RSA of at least ``rsa_min_bits`` or one of ``ec_curves``."""

    rsa_min_bits: int = 2048
    ec_curves: tuple[str, ...] = ("secp256r1", "secp384r1")

    def check(self, public_key: object) -> None:
        """Raise :class:`WeakKeyError` unless *public_key* is allowed."""
        if isinstance(public_key, rsa.RSAPublicKey):
            if public_key.key_size < self.rsa_min_bits:
                raise WeakKeyError(
                    f"RSA key of {public_key.key_size} bits: at least {self.rsa_min_bits} required"
                )
            return
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            if public_key.curve.name not in self.ec_curves:
                allowed = ", ".join(self.ec_curves)
                raise WeakKeyError(
                    f"EC curve {public_key.curve.name} is not allowed (allowed: {allowed})"
                )
            return
        raise WeakKeyError(
            f"key type {type(public_key).__name__} is not allowed: use RSA or EC P-256/P-384"
        )


@dataclass(frozen=True, slots=True)
class ValidityRule:
    """Allowed validity periods in months; never above the legal five years."""

    allowed_months: tuple[int, ...]
    default_months: int

    def __post_init__(self) -> None:
        if self.default_months not in self.allowed_months:
            raise ProfileError("the default validity must be one of the allowed ones")
        if max(self.allowed_months) > MAX_LEGAL_VALIDITY_MONTHS:
            raise ProfileError("a qualified certificate may not be valid for over 5 years")

    @staticmethod
    def months_to_timedelta(months: int) -> timedelta:
        """Calendar-average months as a duration (36 -> 1096 days, 24 -> 730, 12 -> 365)."""
        return timedelta(days=round(months * 365.25 / 12))

    @property
    def max_duration(self) -> timedelta:
        """The longest allowed duration."""
        return self.months_to_timedelta(max(self.allowed_months))


@dataclass(frozen=True, slots=True)
class PkiUrls:
    """Where relying parties find the issuer certificate and the status services."""

    ca_issuers: str
    ocsp: str | None = None
    crl: str | None = None

    def __post_init__(self) -> None:
        for name, value in (("ca_issuers", self.ca_issuers), ("ocsp", self.ocsp)):
            if value is not None and not value.startswith(("http://", "https://")):
                raise ProfileError(f"{name} must be an http(s) URL: {value!r}")
        if self.crl is not None and not self.crl.startswith(("http://", "https://", "ldap://")):
            raise ProfileError(f"crl must be an http(s) or ldap URL: {self.crl!r}")
        if self.ocsp is None and self.crl is None:
            raise ProfileError("give an OCSP URL, a CRL URL or both (EN 319 412-2 GEN-4.4.1-8)")


# --------------------------------------------------------------------------- profile

_DERIVE_SHORTCUTS = ("issuer_policy_oid", "cps_uri", "retention_years", "pds", "urls")


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateProfile:
    """A certificate profile as data, plus pure methods that apply it to a holder.

    ``policies[0]`` is the issuer's (TSP's) own policy by convention; the ETSI QCP
    policy and, for AAPP profiles, the AAPP policy follow. ``detect_policies`` are
    the policy OIDs (prefixes) by which :func:`~qcertlib.profiles.lint` recognises a
    certificate issued under this profile. ``pkilint_type`` is the ``lint_etsi_cert
    -t`` type that checks certificates of this profile.
    """

    name: str
    description: str
    holder_kind: HolderKind
    qscd: bool
    subject: tuple[AttributeRule, ...]
    san: SanRule
    key: KeyRule
    key_usage: KeyUsageRule
    eku: EkuRule | None
    policies: tuple[PolicyRule, ...]
    qc: QcRule
    validity: ValidityRule
    renewal_window: timedelta | None
    default_urls: PkiUrls | None = None
    detect_policies: tuple[x509.ObjectIdentifier, ...] = ()
    afirma_class: int = 0
    pkilint_type: str = ""
    aapp_sello_base: x509.ObjectIdentifier | None = None
    notes: tuple[str, ...] = field(default=())

    # -- keys and validity -------------------------------------------------

    def check_key(self, public_key: object) -> None:
        """Raise :class:`~qcertlib.errors.WeakKeyError` unless the key is allowed."""
        self.key.check(public_key)

    def validity_for(self, months: int | None = None) -> timedelta:
        """The validity duration for *months* (the profile default when ``None``).

        Raises :class:`~qcertlib.errors.ValidityError` for a period the profile does
        not allow (and never allows over five years, Ley 6/2020 art. 4.2).
        """
        if months is None:
            months = self.validity.default_months
        if months > MAX_LEGAL_VALIDITY_MONTHS:
            raise ValidityError(
                f"{months} months is over the 5-year legal maximum (Ley 6/2020 art. 4.2)"
            )
        if months not in self.validity.allowed_months:
            allowed = " or ".join(str(m) for m in self.validity.allowed_months)
            raise ValidityError(
                f"profile {self.name!r} allows {allowed} months of validity, not {months}"
            )
        return self.validity.months_to_timedelta(months)

    # -- subject and SAN -----------------------------------------------------

    def _fields(self, holder: Holder) -> dict[str, str | None]:
        if self.holder_kind is HolderKind.CITIZEN and not isinstance(holder, Citizen):
            raise HolderDataError(f"profile {self.name!r} is for citizens, not a public body")
        if self.holder_kind is HolderKind.PUBLIC_BODY and not isinstance(holder, PublicBody):
            raise HolderDataError(f"profile {self.name!r} is for public bodies, not a citizen")
        return holder_fields(holder)

    def subject_for(self, holder: Holder) -> x509.Name:
        """The subject DN for *holder* (:class:`HolderDataError` for the wrong kind)."""
        fields = self._fields(holder)
        attrs: list[x509.NameAttribute[str]] = []
        for rule in self.subject:
            value = rule.render(fields)
            if value is not None:
                attrs.append(x509.NameAttribute(rule.oid, value))
        return x509.Name(attrs)

    def san_for(self, holder: Holder) -> x509.SubjectAlternativeName | None:
        """The subjectAltName value for *holder*, or ``None`` when it would be empty."""
        fields = self._fields(holder)
        names: list[x509.GeneralName] = []
        if self.san.email is not None:
            email = render_template(self.san.email, fields)
            if email:
                names.append(x509.RFC822Name(email))
            elif self.san.email_required:
                raise HolderDataError(f"profile {self.name!r} needs the holder's e-mail address")
        dir_attrs: list[x509.NameAttribute[str]] = []
        for rule in self.san.directory_name:
            value = rule.render(fields)
            if value is not None:
                dir_attrs.append(x509.NameAttribute(rule.oid, value))
        if dir_attrs:
            names.append(x509.DirectoryName(x509.Name(dir_attrs)))
        return x509.SubjectAlternativeName(names) if names else None

    # -- extensions --------------------------------------------------------

    def certificate_policies(self) -> x509.CertificatePolicies:
        """The certificatePolicies value (TSP policy first, then QCP, then AAPP)."""
        return x509.CertificatePolicies([p.policy_information() for p in self.policies])

    def qc_statements_der(self) -> bytes:
        """The DER of the extension value of the profile (computed once per QC rule)."""
        return _qc_statements_der(self.qc)

    def extensions_for(
        self,
        holder: Holder,
        *,
        subject_public_key: Any,
        issuer_certificate: x509.Certificate,
        urls: PkiUrls | None = None,
    ) -> list[tuple[x509.ExtensionType, bool]]:
        """All leaf extensions as ``(value, critical)`` pairs, in a stable order.

        *urls* (from the caller's PKI) wins over the profile's ``default_urls``;
        :class:`~qcertlib.errors.ProfileError` when neither is given.
        """
        self.check_key(subject_public_key)
        urls = urls or self.default_urls
        if urls is None:
            raise ProfileError(f"profile {self.name!r} has no default URLs: pass urls=PkiUrls(...)")
        exts: list[tuple[x509.ExtensionType, bool]] = [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (self.key_usage.extension(subject_public_key), self.key_usage.critical),
        ]
        if self.eku is not None and self.eku.usages:
            exts.append((x509.ExtendedKeyUsage(list(self.eku.usages)), False))
        san = self.san_for(holder)
        if san is not None:
            exts.append((san, False))
        exts.append((self.certificate_policies(), False))
        exts.append(
            (x509.UnrecognizedExtension(QExt.QC_STATEMENTS, self.qc_statements_der()), False)
        )
        access = [
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(urls.ca_issuers),
            )
        ]
        if urls.ocsp:
            access.append(
                x509.AccessDescription(
                    AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(urls.ocsp)
                )
            )
        exts.append((x509.AuthorityInformationAccess(access), False))
        if urls.crl:
            exts.append(
                (
                    x509.CRLDistributionPoints(
                        [
                            x509.DistributionPoint(
                                full_name=[x509.UniformResourceIdentifier(urls.crl)],
                                relative_name=None,
                                reasons=None,
                                crl_issuer=None,
                            )
                        ]
                    ),
                    False,
                )
            )
        exts.append((_aki_from_issuer(issuer_certificate), False))
        exts.append((x509.SubjectKeyIdentifier.from_public_key(subject_public_key), False))
        return exts

    # -- derivation --------------------------------------------------------

    def derive(self, *, name: str, **overrides: Any) -> CertificateProfile:
        """A new profile named *name* with *overrides* applied.

        Any field of the dataclass may be overridden by name; shortcuts:
        ``issuer_policy_oid`` (replaces the TSP policy, ``policies[0]``, and its
        detection prefix), ``cps_uri`` (of the TSP policy), ``retention_years``,
        ``pds`` (a sequence of :class:`PdsEntry` or ``(url, language)`` pairs),
        ``urls`` (the default :class:`PkiUrls`). Unknown names raise
        :class:`~qcertlib.errors.ProfileError`.
        """
        names = {f.name for f in dataclasses.fields(self)}
        direct = {k: v for k, v in overrides.items() if k in names}
        short = {k: v for k, v in overrides.items() if k not in names}
        unknown = set(short) - set(_DERIVE_SHORTCUTS)
        if unknown:
            raise ProfileError(f"unknown profile override(s): {', '.join(sorted(unknown))}")
        profile = dataclasses.replace(self, name=name, **direct)
        policies = list(profile.policies)
        if "issuer_policy_oid" in short or "cps_uri" in short:
            if not policies:
                raise ProfileError("the profile has no issuer policy to override")
            first = policies[0]
            oid = short.get("issuer_policy_oid", first.oid)
            oid = x509.ObjectIdentifier(oid) if isinstance(oid, str) else oid
            policies[0] = dataclasses.replace(
                first,
                oid=oid,
                cps_uri=short.get("cps_uri", first.cps_uri),
                match_prefix=None if oid != first.oid else first.match_prefix,
            )
            detect = profile.detect_policies
            if oid != first.oid:
                detect = (oid,)
            profile = dataclasses.replace(profile, policies=tuple(policies), detect_policies=detect)
        qc = profile.qc
        if "retention_years" in short:
            qc = dataclasses.replace(qc, retention_years=short["retention_years"])
        if "pds" in short:
            entries = tuple(
                p if isinstance(p, PdsEntry) else PdsEntry(p[0], p[1]) for p in short["pds"]
            )
            qc = dataclasses.replace(qc, pds=entries)
        if qc is not profile.qc:
            profile = dataclasses.replace(profile, qc=qc)
        if "urls" in short:
            profile = dataclasses.replace(profile, default_urls=short["urls"])
        return profile

    # -- descriptive ---------------------------------------------------------

    @property
    def etsi_policy(self) -> x509.ObjectIdentifier | None:
        """The EN 319 411-2 QCP policy of the profile."""
        qcps = {
            EtsiPolicyOID.QCP_N,
            EtsiPolicyOID.QCP_L,
            EtsiPolicyOID.QCP_N_QSCD,
            EtsiPolicyOID.QCP_L_QSCD,
        }
        for p in self.policies:
            if p.oid in qcps:
                return p.oid
        return None

    @property
    def uses_client_auth(self) -> bool:
        """Whether the profile's EKU includes clientAuth."""
        return self.eku is not None and ExtendedKeyUsageOID.CLIENT_AUTH in self.eku.usages


def _aki_from_issuer(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key())  # type: ignore[arg-type]
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


@functools.lru_cache(maxsize=64)
def _qc_statements_der(qc: QcRule) -> bytes:
    """Encode a profile's QC statements; identical for every certificate of the profile."""
    statements: list[Any] = []
    if qc.compliance:
        statements.append(qcs.QcCompliance())
    if qc.sscd:
        statements.append(qcs.QcSSCD())
    if qc.retention_years is not None:
        statements.append(qcs.QcRetentionPeriod(qc.retention_years))
    statements.append(qcs.QcType((qc.qc_type,)))
    if qc.pds:
        statements.append(qcs.QcPDS(tuple(qcs.PdsLocation(p.url, p.language) for p in qc.pds)))
    if qc.semantics_identifier is not None:
        statements.append(qcs.SemanticsInformation(semantics_identifier=qc.semantics_identifier))
    return qcs.QCStatements(tuple(statements)).to_der()
