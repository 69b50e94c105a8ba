"""Typed QC statements: the ``qcStatements`` extension of RFC 3739 and ETSI EN 319 412-5.

cryptography exposes the extension (``1.3.6.1.5.5.7.1.3``) only as
:class:`cryptography.x509.UnrecognizedExtension`; this module encodes and decodes
it with a small strict DER codec of qcertlib's own.

.. code-block:: text

    QCStatements ::= SEQUENCE OF QCStatement
    QCStatement  ::= SEQUENCE { statementId OBJECT IDENTIFIER,
                                statementInfo ANY DEFINED BY statementId OPTIONAL }

Each statement kind is a frozen dataclass (:class:`QcCompliance`, :class:`QcType`,
:class:`QcPDS`, ...); statements qcertlib does not know are kept as
:class:`UnknownStatement` and re-encoded byte-for-byte. Building is strict: a value
the standards do not allow (a 3-letter language code, a retention of 0 years, ...)
raises :class:`ValueError` at construction, and :meth:`QCStatements.to_der` always
produces DER.

Decoding is forgiving, because real certificates carry defects: :meth:`QCStatements.from_der`
**never raises** on bytes. What it cannot take as the standards say is reported as a
:class:`QcDefect` in :attr:`QCStatements.defects`:

* a statement whose ``statementInfo`` does not match its schema is kept as an
  :class:`UnknownStatement` (so nothing is lost) with a
  :attr:`DefectCode.MALFORMED_STATEMENT_INFO` defect;
* ``pkixQCSyntax-v1``, a QcSSCD or QcCompliance carrying a value, a QcType value used
  as a statement id, a repeated ETSI statement: decoded as well as possible, and
  reported (see :class:`DefectCode`);
* bytes that are not a ``SEQUENCE OF QCStatement`` at all give an empty
  :class:`QCStatements` with a single :attr:`DefectCode.MALFORMED_EXTENSION` defect;
  an element of the sequence that is not a ``QCStatement`` is dropped with the same
  defect while the other statements are kept.

Re-encoding a decoded value gives DER: the same bytes for statements that were DER
and matched their schema, canonical DER otherwise. A value that a defect made
qcertlib ignore (the statementInfo of a QcSSCD or QcCompliance) is not re-encoded.
Of the real certificates in ``tests/vectors/real-certs``, all but the Vincasign
"alto" seal (QcSSCD with a value) re-encode to their original bytes.

>>> from qcertlib.oids import QcTypeOID
>>> qcs = QCStatements((QcCompliance(), QcType((QcTypeOID.ESEAL,)), QcRetentionPeriod(15)))
>>> QCStatements.from_der(qcs.to_der()) == qcs
True
>>> qcs.is_qualified, qcs.is_qscd, qcs.retention_years
(True, False, 15)
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import re
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Final, TypeAlias, TypeVar

from cryptography import x509
from cryptography.x509 import ObjectIdentifier

# cryptography keeps the enum of ASN.1 string types private; it is the only way to
# keep a decoded directoryName attribute's string type when it is re-encoded.
from cryptography.x509.name import _ASN1Type

from qcertlib import _der
from qcertlib._der import DerError, Tlv
from qcertlib.errors import DecodingError
from qcertlib.oids import ExtensionOID, QcStatementOID, name_of

__all__ = [
    "DefectCode",
    "PdsLocation",
    "PkixQcSyntaxV1",
    "QCStatements",
    "QcCClegislation",
    "QcCompliance",
    "QcDefect",
    "QcIdentMethod",
    "QcLimitValue",
    "QcPDS",
    "QcQSCDlegislation",
    "QcRetentionPeriod",
    "QcSSCD",
    "QcStatement",
    "QcType",
    "SemanticsInformation",
    "UnknownStatement",
]

_T = TypeVar("_T")

_LETTERS2: Final = re.compile(r"[A-Za-z]{2}")
_LETTERS3: Final = re.compile(r"[A-Za-z]{3}")
_ETSI_STATEMENT_ARC: Final = "0.4.0.1862.1."
_QC_TYPE_ARC: Final = QcStatementOID.QC_TYPE.dotted_string + "."


# --------------------------------------------------------------------------- helpers


def _oid_tuple(value: object, what: str, *, min_size: int = 1) -> tuple[ObjectIdentifier, ...]:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise TypeError(f"{what} must be a tuple of ObjectIdentifier")
    items = tuple(value)
    for item in items:
        if not isinstance(item, ObjectIdentifier):
            raise TypeError(f"{what} must hold ObjectIdentifier values, not {type(item).__name__}")
    if len(items) < min_size:
        raise ValueError(f"{what} needs at least {min_size} value(s)")
    return items


def _country_tuple(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise TypeError(f"{what} must be a tuple of 2-letter country codes")
    items = tuple(value)
    if not items:
        raise ValueError(f"{what} needs at least one country code")
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{what} must hold str country codes, not {type(item).__name__}")
        if not _LETTERS2.fullmatch(item):
            raise ValueError(f"{what}: {item!r} is not a 2-letter ISO 3166 country code")
    return items


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return value


def _set(obj: object, name: str, value: object) -> None:
    # Normalising a field of a frozen dataclass in __post_init__.
    object.__setattr__(obj, name, value)


# --------------------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class QcCompliance:
    """esi4-qcStatement-1: the certificate is an EU qualified certificate (no statementInfo)."""

    oid: ClassVar[ObjectIdentifier] = QcStatementOID.QC_COMPLIANCE


@dataclass(frozen=True, slots=True)
class QcSSCD:
    """esi4-qcStatement-4: the private key is in a QSCD (no statementInfo)."""

    oid: ClassVar[ObjectIdentifier] = QcStatementOID.QC_SSCD


@dataclass(frozen=True, slots=True)
class QcType:
    """esi4-qcStatement-6: the certificate type(s), e.g. ``QcTypeOID.ESIGN``.

    EN 319 412-5 (2023 and later editions) allows exactly one type; older
    certificates may list more, so any non-empty tuple is accepted.
    """

    types: tuple[ObjectIdentifier, ...]
    oid: ClassVar[ObjectIdentifier] = QcStatementOID.QC_TYPE

    def __post_init__(self) -> None:
        _set(self, "types", _oid_tuple(self.types, "QcType.types"))


@dataclass(frozen=True, slots=True)
class PdsLocation:
    """One PKI Disclosure Statement: an URL (IA5String) and its ISO 639-1 language."""

    url: str
    language: str

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not isinstance(self.language, str):
            raise TypeError("PdsLocation url and language must be str")
        if not self.url or not self.url.isascii():
            raise ValueError("PdsLocation.url must be a non-empty ASCII (IA5String) URL")
        if not _LETTERS2.fullmatch(self.language):
            raise ValueError(
                f"PdsLocation.language must be a 2-letter ISO 639-1 code, not {self.language!r}"
            )


@dataclass(frozen=True, slots=True)
class QcPDS:
    """esi4-qcStatement-5: where the PKI Disclosure Statements are (one or more)."""

    locations: tuple[PdsLocation, ...]
    oid: ClassVar[ObjectIdentifier] = QcStatementOID.QC_PDS

    def __post_init__(self) -> None:
        given: object = self.locations
        if isinstance(given, PdsLocation) or not hasattr(given, "__iter__"):
            raise TypeError("QcPDS.locations must be a tuple of PdsLocation")
        items = tuple(self.locations)
        if not items:
            raise ValueError("QcPDS needs at least one PdsLocation")
        for item in items:
            if not isinstance(item, PdsLocation):
                raise TypeError(f"QcPDS.locations must hold PdsLocation, not {type(item).__name__}")
        _set(self, "locations", items)


@dataclass(frozen=True, slots=True)
class QcRetentionPeriod:
    """esi4-qcStatement-3: years the registration information is kept after expiry."""

    years: int
    oid: ClassVar[ObjectIdentifier] = QcStatementOID.QC_RETENTION_PERIOD

    def __post_init__(self) -> None:
        if _check_int(self.years, "QcRetentionPeriod.years") <= 0:
            raise ValueError(f"QcRetentionPeriod.years must be positive, not {self.years}")


@dataclass(frozen=True, slots=True)
class QcLimitValue:
    """esi4-qcStatement-2: transaction limit ``amount × 10^exponent`` in *currency*.

    *currency* is an ISO 4217 code: alphabetic (``"EUR"``, a PrintableString) or
    numeric (``978``, an INTEGER 1..999).
    """

    currency: str | int
    amount: int
    exponent: int
    oid: ClassVar[ObjectIdentifier] = QcStatementOID.QC_LIMIT_VALUE

    def __post_init__(self) -> None:
        if isinstance(self.currency, str):
            if not _LETTERS3.fullmatch(self.currency):
                raise ValueError(
                    f"QcLimitValue.currency must be a 3-letter ISO 4217 code, not {self.currency!r}"
                )
        elif not 1 <= _check_int(self.currency, "QcLimitValue.currency") <= 999:
            raise ValueError(f"numeric QcLimitValue.currency must be 1..999, not {self.currency}")
        if _check_int(self.amount, "QcLimitValue.amount") < 0:
            raise ValueError(f"QcLimitValue.amount must not be negative, not {self.amount}")
        _check_int(self.exponent, "QcLimitValue.exponent")


@dataclass(frozen=True, slots=True)
class QcCClegislation:
    """esi4-qcStatement-7: countries whose law the (non-EU) qualified certificate follows."""

    countries: tuple[str, ...]
    oid: ClassVar[ObjectIdentifier] = QcStatementOID.QC_CC_LEGISLATION

    def __post_init__(self) -> None:
        _set(self, "countries", _country_tuple(self.countries, "QcCClegislation.countries"))


@dataclass(frozen=True, slots=True)
class QcIdentMethod:
    """esi4-qcStatement-8: how the subject's identity was verified (``QcIdentMethodOID``)."""

    methods: tuple[ObjectIdentifier, ...]
    oid: ClassVar[ObjectIdentifier] = QcStatementOID.QC_IDENT_METHOD

    def __post_init__(self) -> None:
        _set(self, "methods", _oid_tuple(self.methods, "QcIdentMethod.methods"))


@dataclass(frozen=True, slots=True)
class QcQSCDlegislation:
    """esi4-qcStatement-9: countries whose law the QSCD follows."""

    countries: tuple[str, ...]
    oid: ClassVar[ObjectIdentifier] = QcStatementOID.QC_QSCD_LEGISLATION

    def __post_init__(self) -> None:
        _set(self, "countries", _country_tuple(self.countries, "QcQSCDlegislation.countries"))


def _general_names(value: object, what: str) -> tuple[x509.GeneralName, ...]:
    if not hasattr(value, "__iter__") or isinstance(value, str | bytes):
        raise TypeError(f"{what} must be a tuple of x509.GeneralName")
    items = tuple(value)
    for item in items:
        if not isinstance(item, x509.GeneralName):
            raise TypeError(f"{what} must hold x509.GeneralName, not {type(item).__name__}")
    return items


@dataclass(frozen=True, slots=True)
class SemanticsInformation:
    """``id-qcs-pkixQCSyntax-v2`` (RFC 3739): the semantics of the subject's identifiers.

    EN 319 412-1 §5.1 puts its semantics identifiers here (``SemanticsOID.NATURAL``,
    ``SemanticsOID.LEGAL``, ...). RFC 3739 requires at least one of the two fields.
    """

    semantics_identifier: ObjectIdentifier | None = None
    name_registration_authorities: tuple[x509.GeneralName, ...] = ()
    oid: ClassVar[ObjectIdentifier] = QcStatementOID.PKIX_QC_SYNTAX_V2

    def __post_init__(self) -> None:
        if self.semantics_identifier is not None and not isinstance(
            self.semantics_identifier, ObjectIdentifier
        ):
            raise TypeError("semantics_identifier must be an ObjectIdentifier or None")
        names = _general_names(self.name_registration_authorities, "name_registration_authorities")
        _set(self, "name_registration_authorities", names)
        if self.semantics_identifier is None and not names:
            raise ValueError(
                "SemanticsInformation needs a semantics_identifier or "
                "name_registration_authorities (RFC 3739 §3.2.6.1)"
            )


@dataclass(frozen=True, slots=True)
class PkixQcSyntaxV1:
    """``id-qcs-pkixQCSyntax-v1``: the withdrawn RFC 3039 form. RFC 3739 forbids it.

    Decoded because real certificates carry it (ACCV seals); decoding reports
    :attr:`DefectCode.PKIX_QC_SYNTAX_V1`. Both fields may be empty (no statementInfo).
    """

    semantics_identifier: ObjectIdentifier | None = None
    name_registration_authorities: tuple[x509.GeneralName, ...] = ()
    oid: ClassVar[ObjectIdentifier] = QcStatementOID.PKIX_QC_SYNTAX_V1

    def __post_init__(self) -> None:
        if self.semantics_identifier is not None and not isinstance(
            self.semantics_identifier, ObjectIdentifier
        ):
            raise TypeError("semantics_identifier must be an ObjectIdentifier or None")
        names = _general_names(self.name_registration_authorities, "name_registration_authorities")
        _set(self, "name_registration_authorities", names)


@dataclass(frozen=True, slots=True)
class UnknownStatement:
    """A statement qcertlib does not decode, kept as it was.

    ``info_der`` is the complete DER element of ``statementInfo`` (tag, length and
    contents) or ``None`` when absent; it is re-encoded byte-for-byte.
    """

    oid: ObjectIdentifier
    info_der: bytes | None

    def __post_init__(self) -> None:
        if not isinstance(self.oid, ObjectIdentifier):
            raise TypeError("UnknownStatement.oid must be an ObjectIdentifier")
        if self.info_der is not None:
            if not isinstance(self.info_der, bytes | bytearray):
                raise TypeError("UnknownStatement.info_der must be bytes or None")
            info = bytes(self.info_der)
            try:
                _der.parse_single(info)
            except DerError as exc:
                raise ValueError(
                    f"UnknownStatement.info_der must be exactly one DER element: {exc}"
                ) from None
            _set(self, "info_der", info)


#: Any decoded or buildable statement.
QcStatement: TypeAlias = (
    QcCompliance
    | QcSSCD
    | QcType
    | QcPDS
    | QcRetentionPeriod
    | QcLimitValue
    | QcCClegislation
    | QcIdentMethod
    | QcQSCDlegislation
    | SemanticsInformation
    | PkixQcSyntaxV1
    | UnknownStatement
)

_STATEMENT_CLASSES: Final = (
    QcCompliance,
    QcSSCD,
    QcType,
    QcPDS,
    QcRetentionPeriod,
    QcLimitValue,
    QcCClegislation,
    QcIdentMethod,
    QcQSCDlegislation,
    SemanticsInformation,
    PkixQcSyntaxV1,
    UnknownStatement,
)


class DefectCode(enum.Enum):
    """Known defects of real certificates' QC statements: reported, never raised."""

    #: ``id-qcs-pkixQCSyntax-v1`` is present; RFC 3739 §3.2.6.1 forbids it (real ACCV seal).
    PKIX_QC_SYNTAX_V1 = "pkix-qc-syntax-v1"
    #: QcSSCD carries a statementInfo it must not have (Vincasign test seal "alto").
    QC_SSCD_HAS_VALUE = "qc-sscd-has-value"
    #: QcCompliance carries a statementInfo it must not have.
    QC_COMPLIANCE_HAS_VALUE = "qc-compliance-has-value"
    #: A QcType value (``0.4.0.1862.1.6.x``) is used as a statementId (Uanataca test seal).
    QC_TYPE_OID_AS_STATEMENT = "qc-type-oid-as-statement"
    #: The statementInfo of a known statement does not match its schema (or is missing);
    #: the statement is kept as an :class:`UnknownStatement`.
    MALFORMED_STATEMENT_INFO = "malformed-statement-info"
    #: The same ETSI statement appears more than once (EN 319 412-5 V2.6.1 QCS-4.1-02A).
    DUPLICATE_STATEMENT = "duplicate-statement"
    #: The extension, or one element of it, is not a ``SEQUENCE OF QCStatement``.
    MALFORMED_EXTENSION = "malformed-extension"
    #: The certificate carries the qcStatements extension more than once (RFC 5280 §4.2);
    #: the first one is decoded.
    DUPLICATE_EXTENSION = "duplicate-extension"


@dataclass(frozen=True, slots=True)
class QcDefect:
    """One defect found while decoding: its code, the statement it concerns, a message."""

    code: DefectCode
    statement_oid: ObjectIdentifier | None
    message: str


# --------------------------------------------------------------------------- encoding


def _seq(*parts: bytes) -> bytes:
    return _der.encode_tlv(_der.SEQUENCE, b"".join(parts))


def _oid(oid: ObjectIdentifier) -> bytes:
    return _der.encode_oid(oid.dotted_string)


def _printable(text: str) -> bytes:
    return _der.encode_tlv(_der.PRINTABLE_STRING, text.encode("ascii"))


def _semantics_info(st: SemanticsInformation | PkixQcSyntaxV1) -> bytes | None:
    parts: list[bytes] = []
    if st.semantics_identifier is not None:
        parts.append(_oid(st.semantics_identifier))
    if st.name_registration_authorities:
        names = x509.SubjectAlternativeName(list(st.name_registration_authorities))
        parts.append(names.public_bytes())
    if not parts:
        return None
    return _seq(*parts)


def _statement_info(st: QcStatement) -> bytes | None:
    if isinstance(st, QcCompliance | QcSSCD):
        return None
    if isinstance(st, QcType):
        return _seq(*(_oid(t) for t in st.types))
    if isinstance(st, QcIdentMethod):
        return _seq(*(_oid(m) for m in st.methods))
    if isinstance(st, QcPDS):
        return _seq(
            *(
                _seq(
                    _der.encode_tlv(_der.IA5_STRING, loc.url.encode("ascii")),
                    _printable(loc.language),
                )
                for loc in st.locations
            )
        )
    if isinstance(st, QcRetentionPeriod):
        return _der.encode_integer(st.years)
    if isinstance(st, QcLimitValue):
        currency = (
            _printable(st.currency)
            if isinstance(st.currency, str)
            else _der.encode_integer(st.currency)
        )
        return _seq(currency, _der.encode_integer(st.amount), _der.encode_integer(st.exponent))
    if isinstance(st, QcCClegislation | QcQSCDlegislation):
        return _seq(*(_printable(c) for c in st.countries))
    if isinstance(st, SemanticsInformation | PkixQcSyntaxV1):
        return _semantics_info(st)
    return st.info_der


def _encode_statement(st: QcStatement) -> bytes:
    info = _statement_info(st)
    return _seq(_oid(st.oid), info if info is not None else b"")


# --------------------------------------------------------------------------- decoding


def _read_oid(item: Tlv) -> ObjectIdentifier:
    dotted = _der.decode_oid(item)
    try:
        return ObjectIdentifier(dotted)
    except ValueError:
        raise DerError(f"unsupported OBJECT IDENTIFIER {dotted[:60]}") from None


def _expect(item: Tlv, tag: int, what: str) -> Tlv:
    if item.tag != tag:
        raise DerError(f"{what}: expected tag 0x{tag:02x}, found 0x{item.tag:02x}")
    return item


def _ascii(item: Tlv, tag: int, what: str) -> str:
    return _expect(item, tag, what).content.decode("ascii")


def _oids_of(info: Tlv, what: str) -> tuple[ObjectIdentifier, ...]:
    return tuple(_read_oid(child) for child in _expect(info, _der.SEQUENCE, what).children())


def _countries_of(info: Tlv, what: str) -> tuple[str, ...]:
    return tuple(
        _ascii(child, _der.PRINTABLE_STRING, what)
        for child in _expect(info, _der.SEQUENCE, what).children()
    )


# String types allowed in a directoryName attribute, with the codec that reads them.
_NAME_STRINGS: Final[dict[int, str]] = {
    0x0C: "utf-8",
    0x12: "ascii",
    0x13: "ascii",
    0x14: "latin-1",
    0x16: "ascii",
    0x1A: "ascii",
    0x1C: "utf-32-be",
    0x1E: "utf-16-be",
}


def _decode_name(item: Tlv) -> x509.Name:
    rdns: list[x509.RelativeDistinguishedName] = []
    for rdn in _expect(item, _der.SEQUENCE, "Name").children():
        attributes: list[x509.NameAttribute[str]] = []
        for atv in _expect(rdn, _der.SET, "RelativeDistinguishedName").children():
            parts = _expect(atv, _der.SEQUENCE, "AttributeTypeAndValue").children()
            if len(parts) != 2:
                raise DerError("AttributeTypeAndValue must have a type and a value")
            oid = _read_oid(parts[0])
            codec = _NAME_STRINGS.get(parts[1].tag)
            if codec is None:
                raise DerError(f"unsupported attribute value tag 0x{parts[1].tag:02x}")
            text = parts[1].content.decode(codec)
            with warnings.catch_warnings():
                # cryptography warns about attribute lengths over the X.520 upper
                # bounds, which EN 319 412-2/-3 allow to exceed; a decoder keeps them.
                warnings.simplefilter("ignore", UserWarning)
                attribute = x509.NameAttribute(oid, text, _ASN1Type(parts[1].tag), _validate=False)
            attributes.append(attribute)
        rdns.append(x509.RelativeDistinguishedName(attributes))
    return x509.Name(rdns)


def _decode_ip(content: bytes) -> x509.IPAddress:
    if len(content) in (4, 16):
        return x509.IPAddress(ipaddress.ip_address(content))
    if len(content) in (8, 32):
        half = len(content) // 2
        address = ipaddress.ip_address(content[:half])
        mask = int.from_bytes(content[half:], "big")
        bits = half * 8
        prefix = bin(mask).count("1")
        if mask != ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1):
            raise DerError("iPAddress mask is not contiguous")
        return x509.IPAddress(ipaddress.ip_network((address, prefix)))
    raise DerError(f"iPAddress of {len(content)} bytes")


def _decode_general_name(item: Tlv) -> x509.GeneralName:
    tag = item.tag
    if tag == 0xA0:
        parts = item.children()
        if len(parts) != 2 or parts[1].tag != 0xA0:
            raise DerError("otherName must be { type-id, [0] value }")
        value = _der.parse_single(parts[1].content)
        return x509.OtherName(_read_oid(parts[0]), value.raw)
    if tag == 0x81:
        return x509.RFC822Name(item.content.decode("ascii"))
    if tag == 0x82:
        return x509.DNSName(item.content.decode("ascii"))
    if tag == 0xA4:
        return x509.DirectoryName(_decode_name(_der.parse_single(item.content)))
    if tag == 0x86:
        return x509.UniformResourceIdentifier(item.content.decode("ascii"))
    if tag == 0x87:
        return _decode_ip(item.content)
    if tag == 0x88:
        oid_tlv = Tlv(_der.OBJECT_IDENTIFIER, item.content, b"")
        return x509.RegisteredID(_read_oid(oid_tlv))
    raise DerError(f"unsupported GeneralName choice (tag 0x{tag:02x})")


def _decode_semantics(
    info: Tlv | None, kind: type[SemanticsInformation] | type[PkixQcSyntaxV1]
) -> SemanticsInformation | PkixQcSyntaxV1:
    if info is None:
        if kind is PkixQcSyntaxV1:
            return PkixQcSyntaxV1()
        raise DerError("statementInfo (SemanticsInformation) is missing")
    children = _expect(info, _der.SEQUENCE, "SemanticsInformation").children()
    semantics: ObjectIdentifier | None = None
    names: tuple[x509.GeneralName, ...] = ()
    if children and children[0].tag == _der.OBJECT_IDENTIFIER:
        semantics = _read_oid(children.pop(0))
    if children and children[0].tag == _der.SEQUENCE:
        general = children.pop(0).children()
        if not general:
            raise DerError("nameRegistrationAuthorities must not be empty")
        names = tuple(_decode_general_name(g) for g in general)
    if children:
        raise DerError(f"unexpected element (tag 0x{children[0].tag:02x}) in SemanticsInformation")
    statement = kind(semantics, names)
    _encode_statement(statement)  # whatever is decoded must be re-encodable
    return statement


def _decode_pds(info: Tlv) -> QcPDS:
    locations: list[PdsLocation] = []
    for loc in _expect(info, _der.SEQUENCE, "PdsLocations").children():
        parts = _expect(loc, _der.SEQUENCE, "PdsLocation").children()
        if len(parts) != 2:
            raise DerError("PdsLocation must be { url, language }")
        url = _ascii(parts[0], _der.IA5_STRING, "PdsLocation.url")
        language = _ascii(parts[1], _der.PRINTABLE_STRING, "PdsLocation.language")
        locations.append(PdsLocation(url, language))
    return QcPDS(tuple(locations))


def _decode_limit(info: Tlv) -> QcLimitValue:
    parts = _expect(info, _der.SEQUENCE, "MonetaryValue").children()
    if len(parts) != 3:
        raise DerError("MonetaryValue must be { currency, amount, exponent }")
    currency: str | int
    if parts[0].tag == _der.PRINTABLE_STRING:
        currency = parts[0].content.decode("ascii")
    else:
        currency = _der.decode_integer(parts[0])
    return QcLimitValue(currency, _der.decode_integer(parts[1]), _der.decode_integer(parts[2]))


def _decode_known(oid: str, info: Tlv | None) -> QcStatement | None:
    """Decode the statement *oid* when qcertlib knows it; ``None`` when it does not.

    Raises DerError / ValueError when the statementInfo does not match the schema.
    """
    if oid == QcStatementOID.PKIX_QC_SYNTAX_V1.dotted_string:
        return _decode_semantics(info, PkixQcSyntaxV1)
    if oid == QcStatementOID.PKIX_QC_SYNTAX_V2.dotted_string:
        return _decode_semantics(info, SemanticsInformation)
    decoders: dict[str, Callable[[Tlv], QcStatement]] = {
        QcStatementOID.QC_TYPE.dotted_string: lambda i: QcType(_oids_of(i, "QcType")),
        QcStatementOID.QC_IDENT_METHOD.dotted_string: lambda i: QcIdentMethod(
            _oids_of(i, "QcIdentMethod")
        ),
        QcStatementOID.QC_PDS.dotted_string: _decode_pds,
        QcStatementOID.QC_RETENTION_PERIOD.dotted_string: lambda i: QcRetentionPeriod(
            _der.decode_integer(i)
        ),
        QcStatementOID.QC_LIMIT_VALUE.dotted_string: _decode_limit,
        QcStatementOID.QC_CC_LEGISLATION.dotted_string: lambda i: QcCClegislation(
            _countries_of(i, "QcCClegislation")
        ),
        QcStatementOID.QC_QSCD_LEGISLATION.dotted_string: lambda i: QcQSCDlegislation(
            _countries_of(i, "QcQSCDlegislation")
        ),
    }
    decoder = decoders.get(oid)
    if decoder is None:
        return None
    if info is None:
        raise DerError("statementInfo is missing")
    statement: QcStatement = decoder(info)
    return statement


def _decode_statement(item: Tlv, defects: list[QcDefect]) -> QcStatement:
    """Decode one QCStatement element (raises DerError/ValueError if it is not one)."""
    parts = _expect(item, _der.SEQUENCE, "QCStatement").children()
    if not 1 <= len(parts) <= 2:
        raise DerError(f"QCStatement has {len(parts)} elements, expected 1 or 2")
    oid = _read_oid(parts[0])
    dotted = oid.dotted_string
    info = parts[1] if len(parts) == 2 else None
    name = _name(oid)

    def defect(code: DefectCode, message: str) -> None:
        defects.append(QcDefect(code, oid, message))

    if dotted == QcStatementOID.QC_COMPLIANCE.dotted_string:
        if info is not None:
            defect(
                DefectCode.QC_COMPLIANCE_HAS_VALUE,
                f"QcCompliance must have no statementInfo; a {len(info.raw)}-byte "
                f"element (tag 0x{info.tag:02x}) was ignored",
            )
        return QcCompliance()
    if dotted == QcStatementOID.QC_SSCD.dotted_string:
        if info is not None:
            defect(
                DefectCode.QC_SSCD_HAS_VALUE,
                f"QcSSCD must have no statementInfo; a {len(info.raw)}-byte "
                f"element (tag 0x{info.tag:02x}) was ignored",
            )
        return QcSSCD()
    if dotted.startswith(_QC_TYPE_ARC):
        defect(
            DefectCode.QC_TYPE_OID_AS_STATEMENT,
            f"{name} is a QcType value, not a statementId; kept as an unknown statement",
        )
        return UnknownStatement(oid, info.raw if info is not None else None)
    if dotted == QcStatementOID.PKIX_QC_SYNTAX_V1.dotted_string:
        defect(
            DefectCode.PKIX_QC_SYNTAX_V1,
            "pkixQCSyntax-v1 must not be used (RFC 3739 §3.2.6.1); use pkixQCSyntax-v2",
        )
    try:
        known = _decode_known(dotted, info)
    except (DerError, ValueError, TypeError) as exc:
        defect(
            DefectCode.MALFORMED_STATEMENT_INFO,
            f"the statementInfo of {name} does not match its schema ({exc}); "
            "kept as an unknown statement",
        )
        known = None
    if known is not None:
        return known
    return UnknownStatement(oid, info.raw if info is not None else None)


def _name(oid: ObjectIdentifier) -> str:
    known = name_of(oid)
    return known if known == oid.dotted_string else f"{known} ({oid.dotted_string})"


def _duplicates(statements: tuple[QcStatement, ...]) -> list[QcDefect]:
    counts = Counter(st.oid.dotted_string for st in statements)
    return [
        QcDefect(
            DefectCode.DUPLICATE_STATEMENT,
            ObjectIdentifier(dotted),
            f"{_name(ObjectIdentifier(dotted))} appears {count} times; an ETSI statement "
            "must appear at most once (EN 319 412-5 QCS-4.1-02A)",
        )
        for dotted, count in counts.items()
        if count > 1 and dotted.startswith(_ETSI_STATEMENT_ARC)
    ]


def _find_raw_extensions(tbs: bytes, oid: str) -> list[bytes]:
    """extnValue of every extension *oid* in a TBSCertificate, read without cryptography."""
    fields = _expect(_der.parse_single(tbs), _der.SEQUENCE, "TBSCertificate").children()
    found: list[bytes] = []
    for field in fields:
        if field.tag != 0xA3:
            continue
        for ext in _der.parse_single(field.content).children():
            parts = ext.children()
            if (
                parts
                and parts[0].tag == _der.OBJECT_IDENTIFIER
                and _der.decode_oid(parts[0]) == oid
            ):
                found.append(_expect(parts[-1], _der.OCTET_STRING, "extnValue").content)
    return found


# --------------------------------------------------------------------------- container


@dataclass(frozen=True, slots=True)
class QCStatements:
    """The qcStatements extension: the statements, in order, and the defects found decoding.

    Built by hand, ``defects`` is normally empty; :meth:`from_der` fills it.
    """

    statements: tuple[QcStatement, ...]
    defects: tuple[QcDefect, ...] = ()
    oid: ClassVar[ObjectIdentifier] = ExtensionOID.QC_STATEMENTS

    def __post_init__(self) -> None:
        if not hasattr(self.statements, "__iter__"):
            raise TypeError("QCStatements.statements must be a tuple of statements")
        statements = tuple(self.statements)
        for st in statements:
            if not isinstance(st, _STATEMENT_CLASSES):
                raise TypeError(f"not a QC statement: {type(st).__name__}")
        defects = tuple(self.defects)
        for d in defects:
            if not isinstance(d, QcDefect):
                raise TypeError(f"not a QcDefect: {type(d).__name__}")
        _set(self, "statements", statements)
        _set(self, "defects", defects)

    # ---- encoding

    def to_der(self) -> bytes:
        """The DER of the extension value (``extnValue`` contents)."""
        return _seq(*(_encode_statement(st) for st in self.statements))

    def to_extension(self, critical: bool = False) -> x509.Extension[x509.UnrecognizedExtension]:
        """The extension for :meth:`cryptography.x509.CertificateBuilder.add_extension`.

        EN 319 412-5 requires the extension to be non-critical, the default.
        """
        value = x509.UnrecognizedExtension(self.oid, self.to_der())
        return x509.Extension(self.oid, critical, value)

    # ---- decoding

    @classmethod
    def from_der(cls, der: bytes) -> QCStatements:
        """Decode an extension value. Never raises on any bytes; see the module docs.

        Raises :class:`TypeError` only if *der* is not bytes-like.
        """
        if not isinstance(der, bytes | bytearray | memoryview):
            raise TypeError(f"der must be bytes, not {type(der).__name__}")
        decoded = _decode_extension(bytes(der))
        return decoded if cls is QCStatements else cls(decoded.statements, decoded.defects)

    @classmethod
    def from_certificate(cls, cert: x509.Certificate) -> QCStatements | None:
        """The QC statements of *cert*, or ``None`` if it has no qcStatements extension.

        Never raises on a certificate cryptography could load: even when
        cryptography refuses its extensions (a duplicated extension, a malformed
        one it knows), the qcStatements are read from the raw TBSCertificate.
        """
        if not isinstance(cert, x509.Certificate):
            raise TypeError(f"expected a cryptography Certificate, not {type(cert).__name__}")
        try:
            ext = cert.extensions.get_extension_for_oid(cls.oid)
        except x509.ExtensionNotFound:
            return None
        except (x509.DuplicateExtension, ValueError):  # ValueError: another one is malformed
            return cls._from_raw_certificate(cert)
        value = ext.value
        if isinstance(value, x509.UnrecognizedExtension):
            return cls.from_der(value.value)
        return cls.from_der(value.public_bytes())  # pragma: no cover - future cryptography

    @classmethod
    def _from_raw_certificate(cls, cert: x509.Certificate) -> QCStatements | None:
        try:
            values = _find_raw_extensions(cert.tbs_certificate_bytes, cls.oid.dotted_string)
        except DerError as exc:  # pragma: no cover - cryptography parsed this TBS already
            raise DecodingError(f"the certificate's extensions cannot be read: {exc}") from None
        if not values:
            return None
        decoded = cls.from_der(values[0])
        if len(values) == 1:
            return decoded
        extra = QcDefect(
            DefectCode.DUPLICATE_EXTENSION,
            None,
            f"the qcStatements extension appears {len(values)} times (RFC 5280 §4.2 allows "
            "one); only the first was decoded",
        )
        return cls(decoded.statements, (*decoded.defects, extra))

    # ---- queries

    def get(self, kind: type[_T]) -> _T | None:
        """The first statement of class *kind*, or ``None``."""
        for st in self.statements:
            if isinstance(st, kind):
                return st
        return None

    def has(self, kind: type) -> bool:
        """Whether a statement of class *kind* is present."""
        return any(isinstance(st, kind) for st in self.statements)

    def defects_of(self, code: DefectCode) -> tuple[QcDefect, ...]:
        """The defects with *code*."""
        return tuple(d for d in self.defects if d.code is code)

    @property
    def qc_types(self) -> tuple[ObjectIdentifier, ...]:
        """The types of the first QcType statement (empty when absent)."""
        qc_type = self.get(QcType)
        return qc_type.types if qc_type is not None else ()

    @property
    def is_qualified(self) -> bool:
        """QcCompliance is present (an EU qualified certificate)."""
        return self.has(QcCompliance)

    @property
    def is_qscd(self) -> bool:
        """QcSSCD is present (also when it defectively carried a value)."""
        return self.has(QcSSCD)

    @property
    def semantics_identifier(self) -> ObjectIdentifier | None:
        """The semantics identifier of pkixQCSyntax-v2 (or of the defective v1)."""
        for st in self.statements:
            if (
                isinstance(st, SemanticsInformation | PkixQcSyntaxV1)
                and st.semantics_identifier is not None
            ):
                return st.semantics_identifier
        return None

    @property
    def pds_locations(self) -> tuple[PdsLocation, ...]:
        """The locations of the first QcPDS statement (empty when absent)."""
        pds = self.get(QcPDS)
        return pds.locations if pds is not None else ()

    @property
    def retention_years(self) -> int | None:
        """The years of QcRetentionPeriod, or ``None``."""
        retention = self.get(QcRetentionPeriod)
        return retention.years if retention is not None else None


@functools.lru_cache(maxsize=256)
def _decode_extension(data: bytes) -> QCStatements:
    """Decode an extension value (cached: certificates of one profile share the bytes,
    and the result is immutable)."""
    try:
        outer = _der.parse_single(data)
        elements = _expect(outer, _der.SEQUENCE, "QCStatements").children()
    except DerError as exc:
        return QCStatements(
            (),
            (
                QcDefect(
                    DefectCode.MALFORMED_EXTENSION,
                    None,
                    f"the extension is not a DER SEQUENCE OF QCStatement: {exc}",
                ),
            ),
        )
    statements: list[QcStatement] = []
    defects: list[QcDefect] = []
    for index, element in enumerate(elements):
        mark = len(defects)
        try:
            statements.append(_decode_statement(element, defects))
        except (DerError, ValueError) as exc:
            del defects[mark:]
            defects.append(
                QcDefect(
                    DefectCode.MALFORMED_EXTENSION,
                    None,
                    f"element {index} is not a QCStatement and was dropped: {exc}",
                )
            )
    found = tuple(statements)
    return QCStatements(found, (*defects, *_duplicates(found)))
