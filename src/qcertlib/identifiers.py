"""Spanish identifiers (DNI, NIE, CIF) and ETSI EN 319 412-1 identifiers.

Spanish tax identifiers (*NIF*, número de identificación fiscal):

* **DNI** — 8 digits and a check letter, ``"TRWAGMYFPDXBNJZSQVHLCKE"[number % 23]``
  (``12345678Z``).
* **NIE** (foreigners) — ``X``, ``Y`` or ``Z``, 7 digits and a check letter; the
  prefix counts as the digit 0, 1 or 2 in front of the 7 digits (``X1234567L``).
* **CIF** (legal entities, Orden EHA/451/2008) — an entity letter
  (:class:`EntityKind`), 7 digits and a control character computed from the 7
  digits: add the digits in even positions, add the digit sums of twice each digit
  in odd positions; the control digit is ``(10 - sum % 10) % 10`` and the control
  letter ``"JABCDEFGHI"[digit]``. Entities ``N P Q R S W`` take the letter,
  ``A B E H`` the digit, the others either (:class:`ControlType`).
* **K, L, M NIFs** — natural persons without DNI or NIE (K: Spaniards under 14,
  L: Spaniards resident abroad, M: foreigners without NIE): the letter, 7 digits
  and a DNI-style check letter of the 7 digits. They are valid NIFs but are not
  DNI or NIE numbers, so they are accepted only when asked for
  (``allow_klm=True``) and reported as :attr:`IdKind.NIF_KLM`.

:func:`normalize_id` upper-cases and drops spaces, hyphens and dots, and drops an
``ES`` country prefix (the EU VAT form ``ES12345678Z``): no DNI, NIE or CIF starts
with ``ES`` (a CIF of entity ``E`` continues with a digit), so ``ES`` followed by
exactly nine characters is always that prefix. The prefix is dropped whether or
not the rest is valid; the validators then say what is wrong with the rest.

Limits of the check characters, by design of the schemes (not of this module):
the CIF entity letter is not covered by the control character (``A40573396`` and
``B40573396`` are both well-formed), and a NIE prefix and the matching leading
DNI digit are interchangeable (``X1234567L`` and ``01234567L`` share the check
letter). Any other change of one character is always detected (the test suite
proves it exhaustively per position).

ETSI identifiers (EN 319 412-1 §5.1.3 natural persons, subject ``serialNumber``;
§5.1.4 legal persons, ``organizationIdentifier``): ``<scheme><country>-<reference>``
such as ``IDCES-12345678Z`` or ``VATES-S0733002J``; see
:func:`parse_etsi_identifier`.

Every invalid input raises :class:`~qcertlib.errors.IdentifierError` (a
:class:`ValueError`) whose message says what is wrong and whose ``reason`` is one
of ``"empty"``, ``"length"``, ``"format"``, ``"check-letter"``, ``"check-digit"``,
``"prefix"``, ``"entity-letter"``, ``"scheme"``, ``"country"``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final

from qcertlib.errors import IdentifierError

__all__ = [
    "CIF_ENTITY_LETTERS",
    "LEGAL_SCHEMES",
    "NATURAL_SCHEMES",
    "ControlType",
    "EntityKind",
    "EtsiIdentifier",
    "IdKind",
    "SpanishId",
    "cif_check_character",
    "cif_check_characters",
    "dni_check_letter",
    "legal_person_identifier",
    "natural_person_identifier",
    "normalize_id",
    "parse_etsi_identifier",
    "parse_spanish_id",
    "validate_cif",
    "validate_nif",
]

_DNI_LETTERS: Final = "TRWAGMYFPDXBNJZSQVHLCKE"
_CIF_CONTROL_LETTERS: Final = "JABCDEFGHI"
_DIGITS: Final = "0123456789"
_LETTERS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NIE_PREFIX_DIGIT: Final = {"X": "0", "Y": "1", "Z": "2"}
_KLM: Final = "KLM"
#: The entity letters a CIF may start with.
CIF_ENTITY_LETTERS: Final = "ABCDEFGHJNPQRSUVW"
_SEPARATORS: Final = frozenset("-.\u2010\u2011\u2012\u2013\u2014\u2015\u2212")


class IdKind(enum.Enum):
    """The kind of a Spanish identifier."""

    DNI = "dni"
    """Documento nacional de identidad (Spanish natural person)."""
    NIE = "nie"
    """Número de identidad de extranjero (foreign natural person)."""
    CIF = "cif"
    """NIF of a legal entity (entity letter, 7 digits, control character)."""
    NIF_KLM = "nif-klm"
    """NIF K, L or M of a natural person without DNI or NIE (only with ``allow_klm``)."""


class ControlType(enum.Enum):
    """Which form of control character a CIF entity letter takes."""

    DIGIT = "digit"
    LETTER = "letter"
    EITHER = "either"


class EntityKind(enum.Enum):
    """The kind of entity a CIF's first letter denotes (Orden EHA/451/2008).

    The value is the letter; :attr:`description` is the Spanish legal wording and
    :attr:`control` the control-character form the letter takes.
    """

    PUBLIC_LIMITED_COMPANY = "A"
    LIMITED_LIABILITY_COMPANY = "B"
    GENERAL_PARTNERSHIP = "C"
    LIMITED_PARTNERSHIP = "D"
    COMMUNITY_OF_PROPERTY = "E"
    COOPERATIVE = "F"
    ASSOCIATION_OR_FOUNDATION = "G"
    OWNERS_COMMUNITY = "H"
    CIVIL_PARTNERSHIP = "J"
    FOREIGN_ENTITY = "N"
    LOCAL_CORPORATION = "P"
    PUBLIC_AGENCY = "Q"
    RELIGIOUS_INSTITUTION = "R"
    STATE_OR_REGIONAL_BODY = "S"
    TEMPORARY_JOINT_VENTURE = "U"
    OTHER = "V"
    NON_RESIDENT_PERMANENT_ESTABLISHMENT = "W"

    @property
    def letter(self) -> str:
        """The CIF entity letter (``"S"``)."""
        return self.value

    @property
    def description(self) -> str:
        """The Spanish description of the entity kind."""
        return _ENTITY_DESCRIPTIONS[self.value]

    @property
    def control(self) -> ControlType:
        """Whether CIFs of this kind end in a control digit, a letter or either."""
        return _ENTITY_CONTROL[self.value]

    @property
    def is_public_body(self) -> bool:
        """True for local corporations (P), public agencies (Q) and state/regional bodies (S)."""
        return self.value in "PQS"

    @classmethod
    def from_letter(cls, letter: str) -> EntityKind:
        """The entity kind of a CIF letter; :class:`IdentifierError` if there is none."""
        try:
            return cls(letter)
        except ValueError:
            raise IdentifierError(
                f"{letter!r} is not a CIF entity letter (one of {CIF_ENTITY_LETTERS})",
                value=letter,
                reason="entity-letter",
            ) from None


_ENTITY_DESCRIPTIONS: Final[dict[str, str]] = {
    "A": "sociedad anónima",
    "B": "sociedad de responsabilidad limitada",
    "C": "sociedad colectiva",
    "D": "sociedad comanditaria",
    "E": "comunidad de bienes, herencia yacente u otra entidad sin personalidad jurídica",
    "F": "sociedad cooperativa",
    "G": "asociación o fundación",
    "H": "comunidad de propietarios en régimen de propiedad horizontal",
    "J": "sociedad civil",
    "N": "entidad extranjera",
    "P": "corporación local",
    "Q": "organismo público",
    "R": "congregación o institución religiosa",
    "S": "órgano de la Administración General del Estado o de las comunidades autónomas",
    "U": "unión temporal de empresas",
    "V": "otros tipos no definidos en el resto de claves",
    "W": "establecimiento permanente de entidad no residente en España",
}

_ENTITY_CONTROL: Final[dict[str, ControlType]] = {
    **dict.fromkeys("NPQRSW", ControlType.LETTER),
    **dict.fromkeys("ABEH", ControlType.DIGIT),
    **dict.fromkeys("CDFGJUV", ControlType.EITHER),
}


# --------------------------------------------------------------------------- normalisation


def normalize_id(text: str) -> str:
    """Normalise a Spanish identifier as typed by a person.

    Upper-cases ASCII letters, removes whitespace, hyphens (also Unicode dashes) and
    dots, and removes an ``ES`` country prefix when exactly nine characters follow
    it (``"es-12.345.678-z"`` -> ``"12345678Z"``). No validation: use
    :func:`parse_spanish_id`. Idempotent.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    kept = "".join(
        ch.upper() if ch.isascii() else ch for ch in text if not (ch.isspace() or ch in _SEPARATORS)
    )
    if len(kept) == 11 and kept.startswith("ES"):
        kept = kept[2:]
    return kept


# --------------------------------------------------------------------------- check characters


def dni_check_letter(number: int) -> str:
    """The DNI check letter of an 8-digit number (0 to 99 999 999)."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"expected int, got {type(number).__name__}")
    if not 0 <= number <= 99_999_999:
        raise IdentifierError(
            f"DNI number {number}: a DNI number has at most 8 digits and is not negative",
            value=str(number),
            reason="length",
        )
    return _DNI_LETTERS[number % 23]


def _cif_control_digit(digits7: str) -> int:
    total = 0
    for index, ch in enumerate(digits7):
        digit = int(ch)
        if index % 2 == 0:  # positions 1, 3, 5, 7 (odd, 1-based)
            doubled = 2 * digit
            total += doubled // 10 + doubled % 10
        else:
            total += digit
    return (10 - total % 10) % 10


def _check_cif_parts(letter: str, digits7: str) -> EntityKind:
    kind = EntityKind.from_letter(letter)
    if len(digits7) != 7 or any(ch not in _DIGITS for ch in digits7):
        raise IdentifierError(
            f"{digits7!r}: the number of a CIF is exactly 7 digits",
            value=digits7,
            reason="format",
        )
    return kind


def cif_check_characters(letter: str, digits7: str) -> tuple[str, ...]:
    """Every control character a CIF with this entity letter and number accepts.

    One character for letters that take a digit or a letter, two (digit first) for
    those that take either.
    """
    kind = _check_cif_parts(letter, digits7)
    digit = _cif_control_digit(digits7)
    as_digit, as_letter = str(digit), _CIF_CONTROL_LETTERS[digit]
    if kind.control is ControlType.DIGIT:
        return (as_digit,)
    if kind.control is ControlType.LETTER:
        return (as_letter,)
    return (as_digit, as_letter)


def cif_check_character(letter: str, digits7: str) -> str:
    """The control character the rules require for a CIF.

    A letter for entities ``N P Q R S W``, a digit for ``A B E H``; for the letters
    that accept either (``C D F G J U V``) the digit is returned (see
    :func:`cif_check_characters` for both).
    """
    return cif_check_characters(letter, digits7)[0]


# --------------------------------------------------------------------------- Spanish ids


@dataclass(frozen=True, slots=True)
class SpanishId:
    """A valid Spanish identifier: its kind and normalised value.

    Construction validates (``SpanishId(IdKind.DNI, "12345678A")`` raises); use
    :func:`parse_spanish_id` to build one from user input.
    """

    kind: IdKind
    value: str

    def __post_init__(self) -> None:
        normalised = normalize_id(self.value)
        if self.value != normalised:
            raise IdentifierError(
                f"{self.value}: not in normalised form ({normalised}); "
                "build SpanishId values with parse_spanish_id",
                value=self.value,
                reason="format",
            )
        parsed_kind = _classify(self.value, allow_klm=True)
        if parsed_kind is not self.kind:
            raise IdentifierError(
                f"{self.value}: is a {parsed_kind.name}, not a {self.kind.name}",
                value=self.value,
                reason="prefix",
            )

    @property
    def entity_kind(self) -> EntityKind | None:
        """The entity kind of a CIF (``None`` for natural persons)."""
        if self.kind is IdKind.CIF:
            return EntityKind(self.value[0])
        return None

    @property
    def is_public_body(self) -> bool:
        """True for a CIF of a public body: entity letter P, Q or S."""
        entity = self.entity_kind
        return entity is not None and entity.is_public_body

    @property
    def is_natural_person(self) -> bool:
        """True for a DNI or NIE (and for a K/L/M NIF)."""
        return self.kind is not IdKind.CIF

    def etsi_identifier(self, scheme: str | None = None) -> EtsiIdentifier:
        """This identifier in ETSI form, ``IDCES-…`` (DNI/NIE), ``TINES-…`` (K/L/M) or
        ``VATES-…`` (CIF) by default; *scheme* picks another valid one (e.g. ``"TIN"``)."""
        if scheme is None:
            scheme = {IdKind.CIF: "VAT", IdKind.NIF_KLM: "TIN"}.get(self.kind, "IDC")
        return EtsiIdentifier(scheme, "ES", self.value)

    def __str__(self) -> str:
        return self.value


def _error(label: str, value: str, detail: str, reason: str) -> IdentifierError:
    return IdentifierError(f"{label} {value}: {detail}", value=value, reason=reason)


def _check_digits(label: str, value: str, first: int, last: int, what: str) -> None:
    for index in range(first, last + 1):
        ch = value[index - 1]
        if ch not in _DIGITS:
            raise _error(
                label,
                value,
                f"characters {first} to {last} of {what} must be digits, "
                f"found {ch!r} at position {index}",
                "format",
            )


def _check_letter(label: str, value: str, number: int, what: str) -> None:
    last = value[8]
    expected = _DNI_LETTERS[number % 23]
    if last in _DIGITS:
        raise _error(
            label,
            value,
            f"the last character of {what} is the check letter ({expected}), not the digit {last}",
            "format",
        )
    if last != expected:
        raise _error(
            label, value, f"the check letter should be {expected}, not {last}", "check-letter"
        )


def _parse_dni(value: str) -> None:
    if len(value) == 8 and all(ch in _DIGITS for ch in value):
        raise _error(
            "NIF",
            value,
            f"the check letter is missing (it would be {_DNI_LETTERS[int(value) % 23]})",
            "length",
        )
    if len(value) != 9:
        hint = ""
        if len(value) < 9 and all(ch in _DIGITS for ch in value[:-1]):
            hint = f"; write the leading zeros ({value.zfill(9)})"
        raise _error(
            "NIF",
            value,
            f"a DNI has 8 digits and a check letter (9 characters), got {len(value)}{hint}",
            "length",
        )
    _check_digits("NIF", value, 1, 8, "a DNI")
    _check_letter("NIF", value, int(value[:8]), "a DNI")


def _parse_nie(value: str) -> None:
    if len(value) != 9:
        raise _error(
            "NIE",
            value,
            f"a NIE has 9 characters (X, Y or Z, 7 digits and a check letter), got {len(value)}",
            "length",
        )
    _check_digits("NIE", value, 2, 8, "a NIE")
    _check_letter("NIE", value, int(_NIE_PREFIX_DIGIT[value[0]] + value[1:8]), "a NIE")


def _parse_klm(value: str) -> None:
    if len(value) != 9:
        raise _error(
            "NIF",
            value,
            f"a {value[0]} NIF has 9 characters (the letter, 7 digits and a check letter), "
            f"got {len(value)}",
            "length",
        )
    _check_digits("NIF", value, 2, 8, f"a {value[0]} NIF")
    _check_letter("NIF", value, int(value[1:8]), f"a {value[0]} NIF")


def _parse_cif(value: str) -> None:
    if len(value) != 9:
        raise _error("CIF", value, f"a CIF has 9 characters, got {len(value)}", "length")
    _check_digits("CIF", value, 2, 8, "a CIF")
    entity = EntityKind(value[0])
    accepted = cif_check_characters(value[0], value[1:8])
    control = value[8]
    if control in accepted:
        return
    digit = _cif_control_digit(value[1:8])
    if control in (str(digit), _CIF_CONTROL_LETTERS[digit]):  # right value, wrong form
        form = "a control letter" if entity.control is ControlType.LETTER else "a control digit"
        raise _error(
            "CIF",
            value,
            f"a CIF of entity {entity.letter} ({entity.description}) takes {form}: "
            f"it should end in {accepted[0]}, not {control}",
            "check-digit",
        )
    raise _error(
        "CIF",
        value,
        f"the control character should be {' or '.join(accepted)}, not {control}",
        "check-digit",
    )


def _classify(value: str, *, allow_klm: bool) -> IdKind:
    """Validate an already normalised identifier and return its kind."""
    if not value:
        raise IdentifierError(
            "empty identifier: expected a DNI, NIE or CIF", value=value, reason="empty"
        )
    for index, ch in enumerate(value, start=1):
        if ch not in _DIGITS and ch not in _LETTERS:
            raise IdentifierError(
                f"{value}: character {index} ({ch!r}) is neither a digit nor a letter A-Z",
                value=value,
                reason="format",
            )
    first = value[0]
    if first in _DIGITS:
        _parse_dni(value)
        return IdKind.DNI
    if first in _NIE_PREFIX_DIGIT:
        _parse_nie(value)
        return IdKind.NIE
    if first in _KLM:
        if not allow_klm:
            raise _error(
                "NIF",
                value,
                f"{first} NIFs (natural persons without DNI or NIE) are not accepted here; "
                "expected a DNI, NIE or CIF",
                "prefix",
            )
        _parse_klm(value)
        return IdKind.NIF_KLM
    if first in CIF_ENTITY_LETTERS:
        _parse_cif(value)
        return IdKind.CIF
    raise IdentifierError(
        f"{value}: a DNI starts with a digit, a NIE with X, Y or Z and a CIF with an "
        f"entity letter ({CIF_ENTITY_LETTERS}), not {first}",
        value=value,
        reason="prefix",
    )


def _refuse_etsi(text: str, value: str) -> None:
    if len(value) > 9 and _ETSI_RE.fullmatch(text.strip()):
        raise IdentifierError(
            f"{text.strip()}: this is an ETSI identifier; parse it with parse_etsi_identifier",
            value=text,
            reason="format",
        )


def parse_spanish_id(text: str, *, allow_klm: bool = False) -> SpanishId:
    """Parse and validate a DNI, NIE or CIF (and K/L/M NIFs with *allow_klm*).

    The input is normalised first (:func:`normalize_id`); an ETSI form such as
    ``IDCES-12345678Z`` is not accepted here (use :func:`parse_etsi_identifier`).
    """
    value = normalize_id(text)
    _refuse_etsi(text, value)
    kind = _classify(value, allow_klm=allow_klm)
    return SpanishId(kind, value)


def validate_nif(text: str, *, allow_klm: bool = False) -> str:
    """Validate the NIF of a natural person (DNI or NIE; K/L/M with *allow_klm*).

    Returns the normalised value. A CIF is refused with a message saying it is the
    identifier of a legal entity.
    """
    value = normalize_id(text)
    _refuse_etsi(text, value)
    first = value[:1]
    if first and first in _LETTERS and first not in _NIE_PREFIX_DIGIT:
        if first in _KLM and allow_klm:
            return parse_spanish_id(value, allow_klm=True).value
        if first in CIF_ENTITY_LETTERS:
            try:
                parsed = parse_spanish_id(value)
            except IdentifierError:
                pass
            else:
                entity = parsed.entity_kind
                assert entity is not None
                raise _error(
                    "NIF",
                    value,
                    f"this is the CIF of a legal entity ({entity.letter}: {entity.description}), "
                    "not the NIF of a natural person (DNI or NIE)",
                    "entity-letter",
                )
        if first in _KLM:
            _classify(value, allow_klm=False)  # raises the K/L/M message
        raise _error(
            "NIE",
            value,
            f"a NIE starts with X, Y or Z, not {first} (and a DNI starts with a digit)",
            "prefix",
        )
    return parse_spanish_id(value, allow_klm=allow_klm).value


def validate_cif(text: str) -> str:
    """Validate the CIF of a legal entity; returns the normalised value.

    The NIF of a natural person is refused with a message saying so.
    """
    value = normalize_id(text)
    _refuse_etsi(text, value)
    first = value[:1]
    if first and first not in CIF_ENTITY_LETTERS:
        try:
            parsed = parse_spanish_id(value, allow_klm=True)
        except IdentifierError:
            pass
        else:
            raise _error(
                "CIF",
                value,
                f"this is the NIF of a natural person ({parsed.kind.name}), "
                "not the CIF of a legal entity",
                "prefix",
            )
        raise _error(
            "CIF",
            value,
            f"a CIF starts with an entity letter ({CIF_ENTITY_LETTERS}), not {first}",
            "entity-letter",
        )
    return parse_spanish_id(value).value


# --------------------------------------------------------------------------- ETSI identifiers

#: Natural-person schemes of EN 319 412-1 §5.1.3 (``TAX`` is deprecated).
NATURAL_SCHEMES: Final = frozenset({"IDC", "PAS", "PNO", "TAX", "TIN"})
#: Legal-person schemes of EN 319 412-1 §5.1.4.
LEGAL_SCHEMES: Final = frozenset({"VAT", "NTR", "PSD", "LEI"})

_ETSI_RE: Final = re.compile(r"([A-Z]{2}[A-Z:])([a-zA-Z]{2})-(.+)")

# ISO 3166-1 alpha-2 (as used by pkilint through the iso3166 package), plus the
# transnational codes pkilint accepts (EU, EZ, SU, UN).
_ISO3166_TEXT: Final = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW
    EU EZ SU UN
"""
_ISO3166: Final = frozenset(_ISO3166_TEXT.split())


def _lei_valid(reference: str) -> bool:
    if len(reference) != 20 or any(ch not in _DIGITS and ch not in _LETTERS for ch in reference):
        return False
    return int("".join(str(int(ch, 36)) for ch in reference)) % 97 == 1


@dataclass(frozen=True, slots=True)
class EtsiIdentifier:
    """An identifier in the syntax of EN 319 412-1 §5.1.3 / §5.1.4.

    ``scheme`` is ``IDC``, ``PAS``, ``PNO``, ``TAX`` or ``TIN`` (natural persons),
    ``VAT``, ``NTR``, ``PSD`` or ``LEI`` (legal persons), or a national scheme of two
    letters and ``:`` (either). ``country`` is upper-case ISO 3166-1 alpha-2 (``EL``
    and ``XI`` also for VAT, ``XG`` for LEI). Construction validates; for Spain the
    reference of ``IDC`` must be a DNI or NIE, of ``TIN``/``TAX`` a natural person's
    NIF, of ``VAT`` a CIF or a natural person's NIF, and it is stored normalised.
    """

    scheme: str
    country: str
    reference: str

    def __post_init__(self) -> None:
        text = f"{self.scheme}{self.country}-{self.reference}"
        _validate_scheme(text, self.scheme)
        _validate_country(text, self.scheme, self.country)
        if not self.reference or "\n" in self.reference or "\r" in self.reference:
            raise IdentifierError(
                f"ETSI identifier {text!r}: the reference after the hyphen is empty or spans lines",
                value=text,
                reason="format",
            )
        if self.country == "ES" and self.scheme in _SPANISH_ID_SCHEMES:
            normalised = _spanish_reference(text, self.scheme, self.reference)
            object.__setattr__(self, "reference", normalised)
        elif self.scheme == "LEI" and not _lei_valid(self.reference):
            raise IdentifierError(
                f"ETSI identifier {text}: a LEI is 20 letters or digits with ISO 17442 "
                "check digits, and this one is not",
                value=text,
                reason="check-digit",
            )

    @property
    def is_national_scheme(self) -> bool:
        """True for a national ``XX:`` scheme."""
        return self.scheme.endswith(":")

    @property
    def is_natural(self) -> bool:
        """True for natural-person schemes (and national schemes, which may be either)."""
        return self.scheme in NATURAL_SCHEMES or self.is_national_scheme

    @property
    def is_legal(self) -> bool:
        """True for legal-person schemes (and national schemes, which may be either)."""
        return self.scheme in LEGAL_SCHEMES or self.is_national_scheme

    @property
    def deprecated(self) -> bool:
        """True for the deprecated ``TAX`` scheme (use ``TIN``)."""
        return self.scheme == "TAX"

    @property
    def spanish_id(self) -> SpanishId | None:
        """The validated Spanish identifier of an ES ``IDC``/``TIN``/``TAX``/``VAT``."""
        if self.country == "ES" and self.scheme in _SPANISH_ID_SCHEMES:
            return parse_spanish_id(self.reference, allow_klm=True)
        return None

    def __str__(self) -> str:
        return f"{self.scheme}{self.country}-{self.reference}"


_SPANISH_ID_SCHEMES: Final[dict[str, frozenset[IdKind]]] = {
    "IDC": frozenset({IdKind.DNI, IdKind.NIE}),
    "TIN": frozenset({IdKind.DNI, IdKind.NIE, IdKind.NIF_KLM}),
    "TAX": frozenset({IdKind.DNI, IdKind.NIE, IdKind.NIF_KLM}),
    "VAT": frozenset({IdKind.CIF, IdKind.DNI, IdKind.NIE, IdKind.NIF_KLM}),
}
_SCHEME_WANTS: Final[dict[str, str]] = {
    "IDC": "a DNI or NIE",
    "TIN": "the NIF of a natural person (DNI, NIE or K/L/M NIF)",
    "TAX": "the NIF of a natural person (DNI, NIE or K/L/M NIF)",
    "VAT": "a CIF (or the NIF of a self-employed natural person)",
}


def _spanish_reference(text: str, scheme: str, reference: str) -> str:
    try:
        parsed = parse_spanish_id(normalize_id(reference), allow_klm=True)
    except IdentifierError as exc:
        raise IdentifierError(
            f"ETSI identifier {text}: {scheme}ES- takes {_SCHEME_WANTS[scheme]}, "
            f"and the reference is not valid: {exc.message}",
            value=text,
            reason=exc.reason,
        ) from None
    if parsed.kind not in _SPANISH_ID_SCHEMES[scheme]:
        reason = "entity-letter" if parsed.kind is IdKind.CIF else "prefix"
        raise IdentifierError(
            f"ETSI identifier {text}: {scheme}ES- takes {_SCHEME_WANTS[scheme]}, "
            f"but {parsed.value} is a {parsed.kind.name}",
            value=text,
            reason=reason,
        )
    return parsed.value


def _validate_scheme(text: str, scheme: str) -> None:
    if len(scheme) != 3 or not re.fullmatch(r"[A-Z]{2}[A-Z:]", scheme):
        raise IdentifierError(
            f"ETSI identifier {text!r}: the scheme must be 3 upper-case letters, or 2 and "
            f"':' for a national scheme, got {scheme!r}",
            value=text,
            reason="scheme",
        )
    if scheme.endswith(":") or scheme in NATURAL_SCHEMES or scheme in LEGAL_SCHEMES:
        return
    raise IdentifierError(
        f"ETSI identifier {text}: unknown scheme {scheme}: natural persons use IDC, PAS, "
        "PNO, TAX or TIN, legal persons VAT, NTR, PSD or LEI, national schemes two letters "
        "and ':'",
        value=text,
        reason="scheme",
    )


def _validate_country(text: str, scheme: str, country: str) -> None:
    if len(country) != 2 or not country.isascii() or not country.isalpha():
        raise IdentifierError(
            f"ETSI identifier {text!r}: the country must be 2 letters, got {country!r}",
            value=text,
            reason="country",
        )
    if country != country.upper():
        raise IdentifierError(
            f"ETSI identifier {text}: the country code must be upper-case "
            f"({country.upper()}, not {country})",
            value=text,
            reason="country",
        )
    if scheme == "LEI":
        if country != "XG":
            raise IdentifierError(
                f"ETSI identifier {text}: a LEI identifier uses the country XG, not {country}",
                value=text,
                reason="country",
            )
        return
    if country in _ISO3166 or (scheme == "VAT" and country in ("EL", "XI")):
        return
    hint = " (EL is only for Greek VAT numbers; use GR)" if country == "EL" else ""
    raise IdentifierError(
        f"ETSI identifier {text}: {country} is not an ISO 3166-1 country code{hint}",
        value=text,
        reason="country",
    )


def parse_etsi_identifier(text: str, *, legal: bool | None = None) -> EtsiIdentifier:
    """Parse ``<scheme><country>-<reference>`` (EN 319 412-1 §5.1.3 / §5.1.4).

    The syntax is the one pkilint checks: ``^([A-Z]{2}[A-Z:])([a-zA-Z]{2})-(.+)$``.
    ``legal=True`` accepts only legal-person schemes (and national ones),
    ``legal=False`` only natural-person ones (and national ones), ``None`` both.
    ``TAX`` is accepted and flagged :attr:`EtsiIdentifier.deprecated`. Spanish
    references are validated as described in :class:`EtsiIdentifier`.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    if not text:
        raise IdentifierError(
            "empty ETSI identifier: expected e.g. IDCES-12345678Z or VATES-S0733002J",
            value=text,
            reason="empty",
        )
    match = _ETSI_RE.fullmatch(text)
    if match is None:
        _diagnose_etsi_syntax(text)
    assert match is not None
    scheme, country, reference = match.groups()
    _validate_scheme(text, scheme)
    if legal is True and scheme in NATURAL_SCHEMES:
        raise IdentifierError(
            f"ETSI identifier {text}: {scheme} is a natural-person scheme; a legal person's "
            "organizationIdentifier uses VAT, NTR, PSD, LEI or a national XX: scheme",
            value=text,
            reason="scheme",
        )
    if legal is False and scheme in LEGAL_SCHEMES:
        raise IdentifierError(
            f"ETSI identifier {text}: {scheme} is a legal-person scheme; a natural person's "
            "serialNumber uses IDC, PAS, PNO, TIN (TAX, deprecated) or a national XX: scheme",
            value=text,
            reason="scheme",
        )
    return EtsiIdentifier(scheme, country, reference)


def _diagnose_etsi_syntax(text: str) -> None:
    example = "expected <scheme><country>-<reference>, e.g. IDCES-12345678Z or VATES-S0733002J"
    if "-" not in text:
        raise IdentifierError(
            f"ETSI identifier {text!r}: no hyphen; {example}", value=text, reason="format"
        )
    head = text.partition("-")[0]
    if len(head) != 5:
        raise IdentifierError(
            f"ETSI identifier {text!r}: the part before the hyphen must have 5 characters "
            f"(3 for the scheme, 2 for the country), got {len(head)}; {example}",
            value=text,
            reason="format",
        )
    _validate_scheme(text, head[:3])
    _validate_country(text, head[:3], head[3:])
    raise IdentifierError(
        f"ETSI identifier {text!r}: the reference after the hyphen is empty or spans lines",
        value=text,
        reason="format",
    )


def natural_person_identifier(nif: str) -> str:
    """The ETSI natural-person identifier of a DNI or NIE: ``"IDCES-12345678Z"``."""
    return f"IDCES-{validate_nif(nif)}"


def legal_person_identifier(cif: str) -> str:
    """The ETSI legal-person identifier of a CIF: ``"VATES-S0733002J"``."""
    return f"VATES-{validate_cif(cif)}"
