"""The profile catalog: qcertlib's certificate profiles, as data.

=====================  ============================================================
``citizen``            ACCV citizen certificate in software (PKCS#12): QCP-n, ACCV
                       software policy, QcType esign, no QcSSCD, 3 years.
``citizen-qscd``       the same on a cryptographic card: QCP-n-qscd, ACCV card policy,
                       QcSSCD, key usage nonRepudiation only (the card's signing key).
``citizen-fnmt``       FNMT-RCM "persona física": policy 1.3.6.1.4.1.5734.3.10.1,
                       FNMT SAN attributes, CN ``APELLIDOS NOMBRE - NIF``, 4 years.
``eorgan-seal``        AAPP "sello electrónico de órgano", nivel medio: QCP-l,
                       2.16.724.1.3.5.6.2, ACCV seal software policy, QcType eseal,
                       AAPP SAN fields, 12 or 24 months.
``eorgan-seal-qscd``   nivel alto: QCP-l-qscd, 2.16.724.1.3.5.6.1, ACCV seal QSCD
                       policy, QcSSCD.
=====================  ============================================================

Every profile produces *strict* ETSI EN 319 412 certificates (semantics identifiers
``IDCES-``/``VATES-`` with pkixQCSyntax-v2, QcPDS over https with an English entry,
QcRetentionPeriod 15, no custodian names in a seal's subject) while following the
issuers' observable practice where ETSI leaves a choice. Facts and sources:
``shared/reference/profiles.md`` §2-§4. Use :meth:`CertificateProfile.derive` to
adapt a profile (own policy OID, URLs, retention period, PDS).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType

from cryptography.x509.oid import NameOID

from qcertlib.errors import ProfileError
from qcertlib.oids import (
    AappOID,
    AccvPolicyOID,
    EkuOID,
    EtsiPolicyOID,
    FnmtOID,
    NameAttributeOID,
    QcTypeOID,
    SemanticsOID,
)
from qcertlib.profiles.holders import HolderKind
from qcertlib.profiles.model import (
    AttributeRule,
    CertificateProfile,
    EkuRule,
    KeyRule,
    KeyUsageBit,
    KeyUsageRule,
    PdsEntry,
    PkiUrls,
    PolicyRule,
    QcRule,
    SanRule,
    ValidityRule,
)

__all__ = ["ACCV_URLS", "FNMT_URLS", "PROFILES", "get_profile"]

#: ACCV's public URLs for ACCVCA-120 (observed in the real ACCV seal).
ACCV_URLS = PkiUrls(
    ca_issuers="http://www.accv.es/gestcert/ACCVCA120SHA2.cacert.crt",
    ocsp="http://ocsp.accv.es",
    crl="http://www.accv.es/fileadmin/Archivos/certificados/accvca120_der.crl",
)
#: FNMT-RCM's public URLs for AC FNMT Usuarios (observed in the 2024 test citizen cert).
FNMT_URLS = PkiUrls(
    ca_issuers="http://www.cert.fnmt.es/certs/ACUSU.crt",
    ocsp="http://ocspusu.cert.fnmt.es/ocspusu/OcspResponder",
    crl="http://www.cert.fnmt.es/crlsacusu/CRLU1879.crl",
)

_ACCV_CPS = "http://www.accv.es/legislacion_c.htm"
_ACCV_PDS = (
    PdsEntry(
        "https://www.accv.es/fileadmin/Archivos/Practicas_de_certificacion/ACCV-PDS-V1.0-EN.pdf",
        "en",
    ),
)
_FNMT_PDS = (
    PdsEntry("https://www.cert.fnmt.es/pds/PDSACUsuarios_es.pdf", "es"),
    PdsEntry("https://www.cert.fnmt.es/pds/PDSACUsuarios_en.pdf", "en"),
)

_DS = KeyUsageBit.DIGITAL_SIGNATURE
_NR = KeyUsageBit.CONTENT_COMMITMENT
_KE = KeyUsageBit.KEY_ENCIPHERMENT

_KU_SOFTWARE = KeyUsageRule(
    bits=frozenset({_DS, _NR, _KE}),
    rationale=(
        "ETSI type F (digitalSignature + nonRepudiation + keyEncipherment): one software "
        "key signs documents, authenticates (TLS client) and receives encrypted data, as in "
        "every ACCV/FNMT certificate observed. Allowed for content commitment "
        "(NAT-4.3.2-2); pkilint reports it as a WARNING (mixed usage), never an ERROR."
    ),
)
_KU_CARD = KeyUsageRule(
    bits=frozenset({_NR}),
    rationale=(
        "ETSI type A (nonRepudiation only), the preferred setting (NAT-4.3.2-3): ACCV cards "
        "hold separate FIRMA (signing) and CIFRADO (encryption) keys; this profile "
        "certifies the signing key in the QSCD."
    ),
)
_EKU_AUTH_AND_PDF = EkuRule(
    usages=(EkuOID.CLIENT_AUTH, EkuOID.ADOBE_AUTHENTIC_DOCUMENTS),
    rationale=(
        "clientAuth + Adobe Authentic Documents, as ACCV's 2023 issuing CA (ACCV RSA1 "
        "CLIENTE) and AOC's seal profile; no emailProtection, which would put the "
        "certificate under the CA/B S/MIME 825-day cap."
    ),
)

_UP = True


def _natural_subject(common_name: str) -> tuple[AttributeRule, ...]:
    return (
        AttributeRule(NameOID.COUNTRY_NAME, "ES"),
        AttributeRule(NameOID.SERIAL_NUMBER, "{natural_id}"),
        AttributeRule(NameOID.GIVEN_NAME, "{given_name}", upper=_UP),
        AttributeRule(NameOID.SURNAME, "{surnames}", upper=_UP),
        AttributeRule(NameOID.COMMON_NAME, common_name, upper=_UP),
    )


def _citizen(*, qscd: bool) -> CertificateProfile:
    accv = AccvPolicyOID.CIUDADANO_QSCD_V if qscd else AccvPolicyOID.CIUDADANO_SOFTWARE_V
    prefix = AccvPolicyOID.CIUDADANO_QSCD if qscd else AccvPolicyOID.CIUDADANO_SOFTWARE
    device = "en dispositivo seguro (tarjeta)" if qscd else "en soporte software"
    return CertificateProfile(
        name="citizen-qscd" if qscd else "citizen",
        description=(
            "ACCV citizen certificate on a cryptographic card (QSCD)"
            if qscd
            else "ACCV citizen certificate in software (PKCS#12)"
        ),
        holder_kind=HolderKind.CITIZEN,
        qscd=qscd,
        subject=_natural_subject("{full_name}"),
        san=SanRule(
            email="{email}",
            email_required=True,
            directory_name=(
                AttributeRule(
                    NameOID.COMMON_NAME,
                    "{given_name}|{first_surname}[|{second_surname}]",
                    upper=_UP,
                ),
            ),
            rationale=(
                "ACCV (Arangi CertificadoCiudadano): the e-mail is the first SAN entry and "
                "a directory name carries CN 'NOMBRE|APELLIDO1|APELLIDO2'."
            ),
        ),
        key=KeyRule(),
        key_usage=_KU_CARD if qscd else _KU_SOFTWARE,
        eku=None if qscd else _EKU_AUTH_AND_PDF,
        policies=(
            PolicyRule(
                accv,
                cps_uri=_ACCV_CPS,
                user_notice=f"Certificado cualificado de ciudadano expedido por la ACCV {device}",
                match_prefix=prefix,
            ),
            PolicyRule(EtsiPolicyOID.QCP_N_QSCD if qscd else EtsiPolicyOID.QCP_N),
        ),
        qc=QcRule(
            qc_type=QcTypeOID.ESIGN,
            sscd=qscd,
            pds=_ACCV_PDS,
            retention_years=15,
            semantics_identifier=SemanticsOID.NATURAL,
        ),
        validity=ValidityRule(allowed_months=(36,), default_months=36),
        renewal_window=timedelta(days=70),
        default_urls=ACCV_URLS,
        detect_policies=(prefix,),
        afirma_class=0,
        pkilint_type=(
            "QCP-N-QSCD-EIDAS-FINAL-CERTIFICATE" if qscd else "NCP-NATURAL-PERSON-CERTIFICATE"
        ),
    )


def _citizen_fnmt() -> CertificateProfile:
    return CertificateProfile(
        name="citizen-fnmt",
        description="FNMT-RCM qualified certificate of a natural person (persona física)",
        holder_kind=HolderKind.CITIZEN,
        qscd=False,
        subject=_natural_subject("{first_surname}[ {second_surname}] {given_name} - {nif}"),
        san=SanRule(
            email=None,
            directory_name=(
                AttributeRule(FnmtOID.SAN_DNI, "{nif}"),
                AttributeRule(FnmtOID.SAN_APELLIDO2, "{second_surname}", required=False, upper=_UP),
                AttributeRule(FnmtOID.SAN_APELLIDO1, "{first_surname}", upper=_UP),
                AttributeRule(FnmtOID.SAN_NOMBRE, "{given_name}", upper=_UP),
            ),
            rationale=(
                "FNMT 2024 profile: no e-mail; a directory name with FNMT attributes "
                "1.3.6.1.4.1.5734.1.4 (DNI/NIE), .1.3, .1.2 (surnames), .1.1 (name)."
            ),
        ),
        key=KeyRule(),
        key_usage=_KU_SOFTWARE,
        eku=EkuRule(
            usages=(
                EkuOID.CLIENT_AUTH,
                EkuOID.MS_DOCUMENT_SIGNING,
                EkuOID.ADOBE_AUTHENTIC_DOCUMENTS,
            ),
            rationale="FNMT 2024 'no S/MIME' profile: clientAuth, MS document signing, Adobe.",
        ),
        policies=(
            PolicyRule(
                FnmtOID.PERSONA_FISICA,
                cps_uri="http://www.cert.fnmt.es/dpcs/",
                user_notice=(
                    "Certificado cualificado de firma electrónica. Sujeto a las condiciones "
                    "de uso expuestas en la DPC de la FNMT-RCM"
                ),
            ),
            PolicyRule(EtsiPolicyOID.QCP_N),
        ),
        qc=QcRule(
            qc_type=QcTypeOID.ESIGN,
            sscd=False,
            pds=_FNMT_PDS,
            retention_years=15,
            semantics_identifier=SemanticsOID.NATURAL,
        ),
        validity=ValidityRule(allowed_months=(48,), default_months=48),
        renewal_window=timedelta(days=70),
        default_urls=FNMT_URLS,
        detect_policies=(FnmtOID.PERSONA_FISICA,),
        afirma_class=0,
        pkilint_type="NCP-NATURAL-PERSON-CERTIFICATE",
        notes=("FNMT itself renews persona física certificates within 60 days of expiry.",),
    )


def _seal(*, qscd: bool) -> CertificateProfile:
    base = AappOID.SELLO_ALTO if qscd else AappOID.SELLO_MEDIO
    level = "ALTO" if qscd else "MEDIO"
    accv = AccvPolicyOID.SELLO_QSCD_V if qscd else AccvPolicyOID.SELLO_SOFTWARE_V
    prefix = AccvPolicyOID.SELLO_QSCD if qscd else AccvPolicyOID.SELLO_SOFTWARE

    def f(n: int, template: str, *, required: bool = True, upper: bool = _UP) -> AttributeRule:
        return AttributeRule(AappOID.sello_field(base, n), template, required, upper)

    return CertificateProfile(
        name="eorgan-seal-qscd" if qscd else "eorgan-seal",
        description=(
            f"AAPP e-Organ seal (sello electrónico de órgano), nivel {level.lower()}"
            + (" (key in a QSCD)" if qscd else "")
        ),
        holder_kind=HolderKind.PUBLIC_BODY,
        qscd=qscd,
        subject=(
            AttributeRule(NameOID.COUNTRY_NAME, "ES"),
            AttributeRule(NameOID.ORGANIZATION_NAME, "{name}", upper=_UP),
            AttributeRule(NameOID.ORGANIZATIONAL_UNIT_NAME, "SELLO ELECTRONICO"),
            AttributeRule(NameOID.ORGANIZATIONAL_UNIT_NAME, "{unit}", required=False),
            AttributeRule(NameOID.SERIAL_NUMBER, "{nif}"),
            AttributeRule(NameAttributeOID.ORGANIZATION_IDENTIFIER, "{legal_id}"),
            AttributeRule(NameOID.COMMON_NAME, "{system_name}", upper=_UP),
        ),
        san=SanRule(
            email="{contact_email}",
            directory_name=(
                f(1, f"SELLO ELECTRONICO DE NIVEL {level}"),
                f(2, "{name}"),
                f(3, "{nif}"),
                f(4, "{custodian_nif}", required=False),
                f(5, "{system_name}"),
                f(6, "{custodian_given_name}", required=False),
                f(7, "{custodian_first_surname}", required=False),
                f(8, "{custodian_second_surname}", required=False),
                f(9, "{contact_email}", required=False, upper=False),
            ),
            rationale=(
                "AAPP 'identidad administrativa' (2.16.724.1.3.5.6.x.1-.9) in a SAN directory "
                "name; the custodian's names are only here, not in the subject, so ETSI "
                "tools do not mistake the seal for a natural-person certificate."
            ),
        ),
        key=KeyRule(),
        key_usage=KeyUsageRule(
            bits=frozenset({_DS, _NR, _KE}),
            rationale=(
                "ETSI type F, as every real and test AAPP seal observed: a seal signs "
                "documents (automated administrative action) and authenticates systems to "
                "web services (SCSP). pkilint: WARNING mixed usage, no ERROR."
            ),
        ),
        eku=_EKU_AUTH_AND_PDF,
        policies=(
            PolicyRule(
                accv,
                cps_uri=_ACCV_CPS,
                user_notice=(
                    "Certificado cualificado de sello electrónico de órgano expedido por la ACCV"
                ),
                match_prefix=prefix,
            ),
            PolicyRule(EtsiPolicyOID.QCP_L_QSCD if qscd else EtsiPolicyOID.QCP_L),
            PolicyRule(
                base,
                user_notice=f"Certificado de Sello Administrativo de nivel {level.lower()}",
            ),
        ),
        qc=QcRule(
            qc_type=QcTypeOID.ESEAL,
            sscd=qscd,
            pds=_ACCV_PDS,
            retention_years=15,
            semantics_identifier=SemanticsOID.LEGAL,
        ),
        validity=ValidityRule(allowed_months=(12, 24), default_months=24),
        renewal_window=None,
        default_urls=ACCV_URLS,
        detect_policies=(prefix,),
        afirma_class=8,
        pkilint_type="NCP-LEGAL-PERSON-CERTIFICATE",
        aapp_sello_base=base,
    )


def _catalog(*profiles: CertificateProfile) -> Mapping[str, CertificateProfile]:
    table: dict[str, CertificateProfile] = {}
    for p in profiles:
        if p.name in table:
            raise ProfileError(f"duplicate profile name {p.name!r}")
        table[p.name] = p
    return MappingProxyType(table)


#: The catalog, by name (read-only).
PROFILES: Mapping[str, CertificateProfile] = _catalog(
    _citizen(qscd=False),
    _citizen(qscd=True),
    _citizen_fnmt(),
    _seal(qscd=False),
    _seal(qscd=True),
)


def get_profile(name: str | CertificateProfile) -> CertificateProfile:
    """The catalog profile *name*; :class:`~qcertlib.errors.ProfileError` if unknown.

    A :class:`CertificateProfile` is returned unchanged (handy for APIs that take
    either).
    """
    if isinstance(name, CertificateProfile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ProfileError(f"unknown profile {name!r} (known: {known})") from None
