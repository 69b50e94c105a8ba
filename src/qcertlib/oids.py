"""Object identifiers of the qualified-certificate world, with names for humans.

OIDs are grouped by what they identify (one namespace class per kind), defined
once as :class:`cryptography.x509.ObjectIdentifier`, and named in a single table
used by :func:`name_of`. Sources are listed in ``shared/reference/profiles.md`` §1 and
§3 (ETSI EN 319 411-2 / 412-1 / 412-5, the AAPP "Perfiles de certificados
electrónicos", ACCV's Arangi library, and the real certificates).

ACCV (``1.3.6.1.4.1.8149.3.<type>.<version>.0``) and FNMT (``1.3.6.1.4.1.5734``)
policies are versioned by their issuers: :func:`name_of` and :func:`accv_policy_kind`
match them by prefix, as ACCV's own software does.
"""

from __future__ import annotations

from typing import Final

from cryptography.x509 import ObjectIdentifier

__all__ = [
    "OID_NAMES",
    "AappOID",
    "AccvPolicyOID",
    "EkuOID",
    "EtsiPolicyOID",
    "ExtensionOID",
    "FnmtOID",
    "NameAttributeOID",
    "QcIdentMethodOID",
    "QcStatementOID",
    "QcTypeOID",
    "SemanticsOID",
    "accv_policy_kind",
    "name_of",
]

_O = ObjectIdentifier


class QcStatementOID:
    """Statement identifiers inside the qcStatements extension (RFC 3739, EN 319 412-5)."""

    QC_COMPLIANCE: Final = _O("0.4.0.1862.1.1")
    QC_LIMIT_VALUE: Final = _O("0.4.0.1862.1.2")
    QC_RETENTION_PERIOD: Final = _O("0.4.0.1862.1.3")
    QC_SSCD: Final = _O("0.4.0.1862.1.4")
    QC_PDS: Final = _O("0.4.0.1862.1.5")
    QC_TYPE: Final = _O("0.4.0.1862.1.6")
    QC_CC_LEGISLATION: Final = _O("0.4.0.1862.1.7")
    QC_IDENT_METHOD: Final = _O("0.4.0.1862.1.8")
    QC_QSCD_LEGISLATION: Final = _O("0.4.0.1862.1.9")
    PKIX_QC_SYNTAX_V1: Final = _O("1.3.6.1.5.5.7.11.1")
    PKIX_QC_SYNTAX_V2: Final = _O("1.3.6.1.5.5.7.11.2")
    PSD2: Final = _O("0.4.0.19495.2")


class QcTypeOID:
    """Values of the QcType statement."""

    ESIGN: Final = _O("0.4.0.1862.1.6.1")
    ESEAL: Final = _O("0.4.0.1862.1.6.2")
    WEB: Final = _O("0.4.0.1862.1.6.3")


class QcIdentMethodOID:
    """Values of the QcIdentMethod statement (EN 319 412-5 V2.5)."""

    EIDAS1_AB: Final = _O("0.4.0.1862.1.8.1")
    EIDAS1_CD: Final = _O("0.4.0.1862.1.8.2")
    EIDAS2_ACD: Final = _O("0.4.0.1862.1.8.3")
    EIDAS2_B: Final = _O("0.4.0.1862.1.8.4")


class SemanticsOID:
    """Semantics identifiers of EN 319 412-1 §5.1 (inside pkixQCSyntax-v2)."""

    NATURAL: Final = _O("0.4.0.194121.1.1")
    LEGAL: Final = _O("0.4.0.194121.1.2")
    EIDAS_NATURAL: Final = _O("0.4.0.194121.1.3")
    EIDAS_LEGAL: Final = _O("0.4.0.194121.1.4")


class EtsiPolicyOID:
    """Certificate policies of EN 319 411-2 (qualified) and 319 411-1 (non-qualified)."""

    QCP_N: Final = _O("0.4.0.194112.1.0")
    QCP_L: Final = _O("0.4.0.194112.1.1")
    QCP_N_QSCD: Final = _O("0.4.0.194112.1.2")
    QCP_L_QSCD: Final = _O("0.4.0.194112.1.3")
    QCP_W: Final = _O("0.4.0.194112.1.4")
    QNCP_W: Final = _O("0.4.0.194112.1.5")
    QNCP_W_GEN: Final = _O("0.4.0.194112.1.6")
    NCP: Final = _O("0.4.0.2042.1.1")
    NCP_PLUS: Final = _O("0.4.0.2042.1.2")
    LCP: Final = _O("0.4.0.2042.1.3")
    LEGACY_QCP_SSCD: Final = _O("0.4.0.1456.1.1")
    LEGACY_QCP_PUBLIC: Final = _O("0.4.0.1456.1.2")
    ANY_POLICY: Final = _O("2.5.29.32.0")


class AappOID:
    """The Spanish public-administration arc 2.16.724.1.3.5 ("Perfiles de certificados").

    ``SELLO_ALTO`` / ``SELLO_MEDIO`` are both the policy OIDs and the bases of the
    SAN "identidad administrativa" fields ``<base>.1`` … ``<base>.9``.
    """

    ARC: Final = _O("2.16.724.1.3.5")
    SELLO_ALTO: Final = _O("2.16.724.1.3.5.6.1")
    SELLO_MEDIO: Final = _O("2.16.724.1.3.5.6.2")
    EMPLEADO_ALTO: Final = _O("2.16.724.1.3.5.7.1")
    EMPLEADO_MEDIO: Final = _O("2.16.724.1.3.5.7.2")
    EMPLEADO_SEUDONIMO_ALTO: Final = _O("2.16.724.1.3.5.4.1")
    EMPLEADO_SEUDONIMO_MEDIO: Final = _O("2.16.724.1.3.5.4.2")
    LEGACY_SELLO: Final = _O("2.16.724.1.3.5.2.2")
    LEGACY_EMPLEADO: Final = _O("2.16.724.1.3.5.3.2")

    #: Names of the seal SAN fields, by their last arc.
    SELLO_FIELDS: Final[dict[int, str]] = {
        1: "tipo de certificado",
        2: "nombre de la entidad suscriptora",
        3: "NIF de la entidad suscriptora",
        4: "DNI/NIE del responsable",
        5: "denominación de sistema o componente",
        6: "nombre de pila del responsable",
        7: "primer apellido del responsable",
        8: "segundo apellido del responsable",
        9: "correo electrónico",
    }
    #: Names of the public-employee SAN fields, by their last arc.
    EMPLEADO_FIELDS: Final[dict[int, str]] = {
        1: "tipo de certificado",
        2: "nombre de la entidad suscriptora",
        3: "NIF de la entidad suscriptora",
        4: "DNI/NIE del empleado",
        5: "número de identificación de personal",
        6: "nombre de pila",
        7: "primer apellido",
        8: "segundo apellido",
        9: "correo electrónico",
        10: "unidad organizativa",
        11: "puesto o cargo",
    }

    @staticmethod
    def sello_field(level_base: ObjectIdentifier, n: int) -> ObjectIdentifier:
        """OID of seal SAN field *n* (1..9) under ``SELLO_ALTO`` or ``SELLO_MEDIO``."""
        if not 1 <= n <= 9:
            raise ValueError(f"AAPP seal SAN fields are numbered 1..9, not {n}")
        return _O(f"{level_base.dotted_string}.{n}")


class AccvPolicyOID:
    """ACCV policy prefixes (``1.3.6.1.4.1.8149.3.<type>``); real OIDs add ``.<version>.0``."""

    ARC: Final = _O("1.3.6.1.4.1.8149.3")
    CIUDADANO_QSCD: Final = _O("1.3.6.1.4.1.8149.3.6")
    CIUDADANO_SOFTWARE: Final = _O("1.3.6.1.4.1.8149.3.7")
    CIUDADANO_NUBE: Final = _O("1.3.6.1.4.1.8149.3.23")
    SELLO_QSCD: Final = _O("1.3.6.1.4.1.8149.3.16")
    SELLO_SOFTWARE: Final = _O("1.3.6.1.4.1.8149.3.17")
    CPS: Final = _O("1.3.6.1.4.1.8149.2.4.0")
    TSA: Final = _O("1.3.6.1.4.1.8149.3.100.2.0")

    #: Current versioned OIDs qcertlib's ACCV-style profiles put in certificates.
    #: The seal-software one is observed in a real certificate (8149.3.17.4.0); the
    #: others follow ACCV's ``<type>.<version>.0`` pattern.
    CIUDADANO_SOFTWARE_V: Final = _O("1.3.6.1.4.1.8149.3.7.5.0")
    CIUDADANO_QSCD_V: Final = _O("1.3.6.1.4.1.8149.3.6.6.0")
    SELLO_SOFTWARE_V: Final = _O("1.3.6.1.4.1.8149.3.17.4.0")
    SELLO_QSCD_V: Final = _O("1.3.6.1.4.1.8149.3.16.4.0")


class FnmtOID:
    """FNMT-RCM policies and SAN directory-name attributes (arc 1.3.6.1.4.1.5734)."""

    ARC: Final = _O("1.3.6.1.4.1.5734")
    PERSONA_FISICA: Final = _O("1.3.6.1.4.1.5734.3.10.1")
    EMPLEADO_PUBLICO: Final = _O("1.3.6.1.4.1.5734.3.17.2")
    EMPLEADO_CENTRALIZADO: Final = _O("1.3.6.1.4.1.5734.3.3.10.1")
    CLASE2_PERSONA_FISICA: Final = _O("1.3.6.1.4.1.5734.3.5")
    CLASE2_PERSONA_JURIDICA: Final = _O("1.3.6.1.4.1.5734.3.7")
    SAN_NOMBRE: Final = _O("1.3.6.1.4.1.5734.1.1")
    SAN_APELLIDO1: Final = _O("1.3.6.1.4.1.5734.1.2")
    SAN_APELLIDO2: Final = _O("1.3.6.1.4.1.5734.1.3")
    SAN_DNI: Final = _O("1.3.6.1.4.1.5734.1.4")
    SAN_RAZON_SOCIAL: Final = _O("1.3.6.1.4.1.5734.1.6")
    SAN_CIF: Final = _O("1.3.6.1.4.1.5734.1.7")


class EkuOID:
    """Extended key usages seen in Spanish qualified certificates."""

    CLIENT_AUTH: Final = _O("1.3.6.1.5.5.7.3.2")
    EMAIL_PROTECTION: Final = _O("1.3.6.1.5.5.7.3.4")
    TIME_STAMPING: Final = _O("1.3.6.1.5.5.7.3.8")
    OCSP_SIGNING: Final = _O("1.3.6.1.5.5.7.3.9")
    MS_DOCUMENT_SIGNING: Final = _O("1.3.6.1.4.1.311.10.3.12")
    MS_SMARTCARD_LOGON: Final = _O("1.3.6.1.4.1.311.20.2.2")
    ADOBE_AUTHENTIC_DOCUMENTS: Final = _O("1.2.840.113583.1.1.5")


class ExtensionOID:
    """Extensions cryptography does not name."""

    QC_STATEMENTS: Final = _O("1.3.6.1.5.5.7.1.3")
    CABF_ORGANIZATION_IDENTIFIER: Final = _O("2.23.140.3.1")
    OCSP_NO_CHECK: Final = _O("1.3.6.1.5.5.7.48.1.5")


class NameAttributeOID:
    """Name attributes used in the profiles (cryptography names most; this lists all)."""

    COUNTRY: Final = _O("2.5.4.6")
    COMMON_NAME: Final = _O("2.5.4.3")
    SURNAME: Final = _O("2.5.4.4")
    GIVEN_NAME: Final = _O("2.5.4.42")
    SERIAL_NUMBER: Final = _O("2.5.4.5")
    ORGANIZATION: Final = _O("2.5.4.10")
    ORGANIZATIONAL_UNIT: Final = _O("2.5.4.11")
    ORGANIZATION_IDENTIFIER: Final = _O("2.5.4.97")
    PSEUDONYM: Final = _O("2.5.4.65")
    TITLE: Final = _O("2.5.4.12")
    LOCALITY: Final = _O("2.5.4.7")
    STATE_OR_PROVINCE: Final = _O("2.5.4.8")
    EMAIL_ADDRESS: Final = _O("1.2.840.113549.1.9.1")
    UPN: Final = _O("1.3.6.1.4.1.311.20.2.3")


def _names() -> dict[str, str]:
    names: dict[str, str] = {
        # QC statements
        "0.4.0.1862.1.1": "QcCompliance",
        "0.4.0.1862.1.2": "QcLimitValue",
        "0.4.0.1862.1.3": "QcRetentionPeriod",
        "0.4.0.1862.1.4": "QcSSCD",
        "0.4.0.1862.1.5": "QcPDS",
        "0.4.0.1862.1.6": "QcType",
        "0.4.0.1862.1.7": "QcCClegislation",
        "0.4.0.1862.1.8": "QcIdentMethod",
        "0.4.0.1862.1.9": "QcQSCDlegislation",
        "1.3.6.1.5.5.7.11.1": "pkixQCSyntax-v1",
        "1.3.6.1.5.5.7.11.2": "pkixQCSyntax-v2",
        "0.4.0.19495.2": "PSD2 QcStatement",
        "0.4.0.1862.1.6.1": "QcType esign",
        "0.4.0.1862.1.6.2": "QcType eseal",
        "0.4.0.1862.1.6.3": "QcType web",
        "0.4.0.1862.1.8.1": "QcIdentMethod eIDAS1-ab",
        "0.4.0.1862.1.8.2": "QcIdentMethod eIDAS1-cd",
        "0.4.0.1862.1.8.3": "QcIdentMethod eIDAS2-acd",
        "0.4.0.1862.1.8.4": "QcIdentMethod eIDAS2-b",
        # semantics identifiers
        "0.4.0.194121.1.1": "semanticsId-Natural",
        "0.4.0.194121.1.2": "semanticsId-Legal",
        "0.4.0.194121.1.3": "semanticsId-eIDASNatural",
        "0.4.0.194121.1.4": "semanticsId-eIDASLegal",
        # ETSI policies
        "0.4.0.194112.1.0": "QCP-n",
        "0.4.0.194112.1.1": "QCP-l",
        "0.4.0.194112.1.2": "QCP-n-qscd",
        "0.4.0.194112.1.3": "QCP-l-qscd",
        "0.4.0.194112.1.4": "QCP-w",
        "0.4.0.194112.1.5": "QNCP-w",
        "0.4.0.194112.1.6": "QNCP-w-gen",
        "0.4.0.2042.1.1": "NCP",
        "0.4.0.2042.1.2": "NCP+",
        "0.4.0.2042.1.3": "LCP",
        "0.4.0.1456.1.1": "QCP+SSCD (TS 101 456)",
        "0.4.0.1456.1.2": "QCP-public (TS 101 456)",
        "2.5.29.32.0": "anyPolicy",
        # AAPP
        "2.16.724.1.3.5.6.1": "AAPP sello electrónico nivel alto",
        "2.16.724.1.3.5.6.2": "AAPP sello electrónico nivel medio",
        "2.16.724.1.3.5.7.1": "AAPP empleado público nivel alto",
        "2.16.724.1.3.5.7.2": "AAPP empleado público nivel medio",
        "2.16.724.1.3.5.4.1": "AAPP empleado público con seudónimo nivel alto",
        "2.16.724.1.3.5.4.2": "AAPP empleado público con seudónimo nivel medio",
        # FNMT
        "1.3.6.1.4.1.5734.3.10.1": "FNMT persona física",
        "1.3.6.1.4.1.5734.3.17.2": "FNMT empleado público",
        "1.3.6.1.4.1.5734.3.3.10.1": "FNMT empleado público (firma centralizada)",
        "1.3.6.1.4.1.5734.3.5": "FNMT Clase 2 persona física",
        "1.3.6.1.4.1.5734.3.7": "FNMT Clase 2 persona jurídica",
        "1.3.6.1.4.1.5734.1.1": "FNMT nombre",
        "1.3.6.1.4.1.5734.1.2": "FNMT primer apellido",
        "1.3.6.1.4.1.5734.1.3": "FNMT segundo apellido",
        "1.3.6.1.4.1.5734.1.4": "FNMT DNI/NIE",
        "1.3.6.1.4.1.5734.1.6": "FNMT razón social",
        "1.3.6.1.4.1.5734.1.7": "FNMT CIF",
        # EKUs
        "1.3.6.1.5.5.7.3.1": "serverAuth",
        "1.3.6.1.5.5.7.3.2": "clientAuth",
        "1.3.6.1.5.5.7.3.3": "codeSigning",
        "1.3.6.1.5.5.7.3.4": "emailProtection",
        "1.3.6.1.5.5.7.3.8": "timeStamping",
        "1.3.6.1.5.5.7.3.9": "OCSPSigning",
        "1.3.6.1.4.1.311.10.3.12": "Microsoft Document Signing",
        "1.3.6.1.4.1.311.20.2.2": "Microsoft Smartcard Logon",
        "1.2.840.113583.1.1.5": "Adobe Authentic Documents Trust",
        # extensions
        "1.3.6.1.5.5.7.1.3": "qcStatements",
        "2.23.140.3.1": "cabfOrganizationIdentifier",
        "1.3.6.1.5.5.7.48.1.5": "OCSP no check",
        # name attributes
        "2.5.4.6": "countryName",
        "2.5.4.3": "commonName",
        "2.5.4.4": "surname",
        "2.5.4.42": "givenName",
        "2.5.4.5": "serialNumber",
        "2.5.4.10": "organizationName",
        "2.5.4.11": "organizationalUnitName",
        "2.5.4.97": "organizationIdentifier",
        "2.5.4.65": "pseudonym",
        "2.5.4.12": "title",
        "2.5.4.7": "localityName",
        "2.5.4.8": "stateOrProvinceName",
        "1.2.840.113549.1.9.1": "emailAddress",
        "1.3.6.1.4.1.311.20.2.3": "userPrincipalName",
    }
    for n, field in AappOID.SELLO_FIELDS.items():
        names[f"2.16.724.1.3.5.6.1.{n}"] = f"AAPP sello alto: {field}"
        names[f"2.16.724.1.3.5.6.2.{n}"] = f"AAPP sello medio: {field}"
        names[f"2.16.724.1.3.5.2.2.{n}"] = f"AAPP sello (legacy): {field}"
    for n, field in AappOID.EMPLEADO_FIELDS.items():
        names[f"2.16.724.1.3.5.7.1.{n}"] = f"AAPP empleado alto: {field}"
        names[f"2.16.724.1.3.5.7.2.{n}"] = f"AAPP empleado medio: {field}"
    return names


#: Human names of the OIDs qcertlib knows, keyed by dotted string.
OID_NAMES: Final[dict[str, str]] = _names()

# ACCV policy types by the arc after 1.3.6.1.4.1.8149.3 (Arangi matches by prefix).
_ACCV_TYPES: Final[dict[int, str]] = {
    3: "web",
    5: "aplicación",
    6: "ciudadano en dispositivo seguro (QSCD)",
    7: "ciudadano en software",
    8: "VPN",
    10: "entidad",
    13: "empleado público",
    14: "sede electrónica",
    15: "sede electrónica",
    16: "sello de órgano en QSCD/HSM",
    17: "sello de órgano en software",
    18: "empleado público",
    20: "pertenencia a empresa",
    21: "seudónimo",
    22: "entidad",
    23: "ciudadano en la nube",
    24: "empleado público",
    25: "pertenencia a empresa",
    26: "pertenencia a empresa",
    27: "seudónimo",
    28: "seudónimo",
    29: "representante",
    30: "representante",
    31: "representante",
    32: "representante",
    100: "TSA",
}


def _arcs(oid: ObjectIdentifier | str) -> tuple[int, ...]:
    dotted = oid.dotted_string if isinstance(oid, ObjectIdentifier) else oid
    try:
        return tuple(int(a) for a in dotted.split("."))
    except ValueError:
        raise ValueError(f"not a dotted OID: {dotted!r}") from None


_ACCV_ARC: Final = _arcs(AccvPolicyOID.ARC)
_FNMT_ARC: Final = _arcs(FnmtOID.ARC)


def accv_policy_kind(oid: ObjectIdentifier | str) -> str | None:
    """Return the ACCV certificate type an ACCV policy OID denotes, matched by prefix.

    >>> accv_policy_kind("1.3.6.1.4.1.8149.3.17.4.0")
    'sello de órgano en software'
    >>> accv_policy_kind("0.4.0.194112.1.0") is None
    True
    """
    arcs = _arcs(oid)
    if len(arcs) <= len(_ACCV_ARC) or arcs[: len(_ACCV_ARC)] != _ACCV_ARC:
        return None
    return _ACCV_TYPES.get(arcs[len(_ACCV_ARC)], "otro")


def name_of(oid: ObjectIdentifier | str) -> str:
    """A human name for *oid*: exact match, then ACCV/FNMT prefixes, else the dotted form.

    >>> name_of("0.4.0.194112.1.2")
    'QCP-n-qscd'
    >>> name_of("1.3.6.1.4.1.8149.3.7.5.0")
    'ACCV ciudadano en software (1.3.6.1.4.1.8149.3.7.5.0)'
    >>> name_of("1.2.3.4")
    '1.2.3.4'
    """
    dotted = oid.dotted_string if isinstance(oid, ObjectIdentifier) else oid
    known = OID_NAMES.get(dotted)
    if known is not None:
        return known
    kind = accv_policy_kind(dotted)
    if kind is not None:
        return f"ACCV {kind} ({dotted})"
    arcs = _arcs(dotted)
    if arcs[: len(_FNMT_ARC)] == _FNMT_ARC and len(arcs) > len(_FNMT_ARC):
        return f"FNMT ({dotted})"
    return dotted
