"""Spanish identifiers (DNI, NIE, CIF, K/L/M) and ETSI EN 319 412-1 identifiers."""

from __future__ import annotations

import json
import re
import string

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.x509.oid import NameOID
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pkilint.common import organization_id as pkilint_org_id
from pkilint.etsi import en_319_412_1 as pkilint_412_1
from stdnum.es import nif as stdnum_nif

from qcertlib._certs import load_certificate
from qcertlib.cli import main
from qcertlib.errors import IdentifierError
from qcertlib.identifiers import (
    CIF_ENTITY_LETTERS,
    LEGAL_SCHEMES,
    NATURAL_SCHEMES,
    ControlType,
    EntityKind,
    EtsiIdentifier,
    IdKind,
    SpanishId,
    cif_check_character,
    cif_check_characters,
    dni_check_letter,
    legal_person_identifier,
    natural_person_identifier,
    normalize_id,
    parse_etsi_identifier,
    parse_spanish_id,
    validate_cif,
    validate_nif,
)
from tests.conftest import real_cert_path

REASONS = {
    "empty",
    "length",
    "format",
    "check-letter",
    "check-digit",
    "prefix",
    "entity-letter",
    "scheme",
    "country",
}
ALPHABET = string.digits + string.ascii_uppercase
DNI_TABLE = "TRWAGMYFPDXBNJZSQVHLCKE"


# --------------------------------------------------------------------------- an independent oracle


def oracle_kind(value: str, *, allow_klm: bool = False) -> str | None:
    """A second, deliberately naive implementation of the rules (regex + formulas)."""
    if re.fullmatch(r"[0-9]{8}[A-Z]", value):
        return "dni" if DNI_TABLE[int(value[:8]) % 23] == value[8] else None
    if re.fullmatch(r"[XYZ][0-9]{7}[A-Z]", value):
        number = int(str("XYZ".index(value[0])) + value[1:8])
        return "nie" if DNI_TABLE[number % 23] == value[8] else None
    if allow_klm and re.fullmatch(r"[KLM][0-9]{7}[A-Z]", value):
        return "nif-klm" if DNI_TABLE[int(value[1:8]) % 23] == value[8] else None
    if re.fullmatch(r"[ABCDEFGHJNPQRSUVW][0-9]{7}[0-9A-J]", value):
        digits = [int(c) for c in value[1:8]]
        even = digits[1] + digits[3] + digits[5]
        odd = sum(sum(divmod(2 * d, 10)) for d in digits[0::2])
        control = (10 - (even + odd) % 10) % 10
        as_letter = "JABCDEFGHI"[control]
        if value[0] in "NPQRSW":
            accepted = {as_letter}
        elif value[0] in "ABEH":
            accepted = {str(control)}
        else:
            accepted = {str(control), as_letter}
        return "cif" if value[8] in accepted else None
    return None


# --------------------------------------------------------------------------- strategies

dnis = st.integers(0, 99_999_999).map(lambda n: f"{n:08d}{DNI_TABLE[n % 23]}")
nies = st.tuples(st.sampled_from("XYZ"), st.integers(0, 9_999_999)).map(
    lambda t: f"{t[0]}{t[1]:07d}{DNI_TABLE[int(str('XYZ'.index(t[0])) + f'{t[1]:07d}') % 23]}"
)
klms = st.tuples(st.sampled_from("KLM"), st.integers(0, 9_999_999)).map(
    lambda t: f"{t[0]}{t[1]:07d}{DNI_TABLE[t[1] % 23]}"
)


@st.composite
def cifs(draw: st.DrawFn) -> str:
    letter = draw(st.sampled_from(CIF_ENTITY_LETTERS))
    digits = f"{draw(st.integers(0, 9_999_999)):07d}"
    return letter + digits + draw(st.sampled_from(cif_check_characters(letter, digits)))


valid_ids = st.one_of(dnis, nies, cifs())


# --------------------------------------------------------------------------- real examples

REAL = [
    ("S0733002J", IdKind.CIF, EntityKind.STATE_OR_REGIONAL_BODY, True),  # Consell Insular Menorca
    ("Q2826004J", IdKind.CIF, EntityKind.PUBLIC_AGENCY, True),  # FNMT-RCM
    ("P0200001F", IdKind.CIF, EntityKind.LOCAL_CORPORATION, True),  # ESFIRMA test
    ("A40573396", IdKind.CIF, EntityKind.PUBLIC_LIMITED_COMPANY, False),  # ISTEC (ACCV)
    ("Q0000000J", IdKind.CIF, EntityKind.PUBLIC_AGENCY, True),  # AOC / Vincasign test
    ("99999999R", IdKind.DNI, None, False),  # FNMT test identity
    ("00000000T", IdKind.DNI, None, False),
    ("12345678Z", IdKind.DNI, None, False),
    ("X1234567L", IdKind.NIE, None, False),
    ("Y1234567X", IdKind.NIE, None, False),
    ("Z1234567R", IdKind.NIE, None, False),
]


@pytest.mark.parametrize(("text", "kind", "entity", "public"), REAL)
def test_real_identifiers_validate(
    text: str, kind: IdKind, entity: EntityKind | None, public: bool
) -> None:
    parsed = parse_spanish_id(text)
    assert parsed == SpanishId(kind, text)
    assert str(parsed) == parsed.value == text
    assert parsed.entity_kind is entity
    assert parsed.is_public_body is public
    assert parsed.is_natural_person is (kind is not IdKind.CIF)


# --------------------------------------------------------------------------- check characters


def test_dni_check_letter() -> None:
    assert dni_check_letter(12345678) == "Z"
    assert dni_check_letter(0) == "T"
    assert dni_check_letter(99999999) == "R"
    assert "".join(dni_check_letter(n) for n in range(23)) == DNI_TABLE


@pytest.mark.parametrize("bad", [-1, 100_000_000])
def test_dni_check_letter_out_of_range(bad: int) -> None:
    with pytest.raises(IdentifierError, match="at most 8 digits") as info:
        dni_check_letter(bad)
    assert info.value.reason == "length"


def test_dni_check_letter_type() -> None:
    with pytest.raises(TypeError):
        dni_check_letter(True)
    with pytest.raises(TypeError):
        dni_check_letter("12345678")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("letter", "digits", "required", "accepted"),
    [
        ("S", "0733002", "J", ("J",)),
        ("Q", "2826004", "J", ("J",)),
        ("P", "0200001", "F", ("F",)),
        ("A", "4057339", "6", ("6",)),
        ("B", "1234567", "4", ("4",)),
        ("C", "1234567", "4", ("4", "D")),
        ("N", "0000000", "J", ("J",)),
        ("A", "9999999", "7", ("7",)),
    ],
)
def test_cif_check_character(
    letter: str, digits: str, required: str, accepted: tuple[str, ...]
) -> None:
    assert cif_check_character(letter, digits) == required
    assert cif_check_characters(letter, digits) == accepted


def test_cif_check_character_bad_input() -> None:
    with pytest.raises(IdentifierError) as info:
        cif_check_character("T", "1234567")
    assert info.value.reason == "entity-letter"
    with pytest.raises(IdentifierError) as info:
        cif_check_character("A", "123456")
    assert info.value.reason == "format"


def test_entity_kinds() -> None:
    assert "".join(e.letter for e in EntityKind) == CIF_ENTITY_LETTERS
    assert {e.letter for e in EntityKind if e.is_public_body} == {"P", "Q", "S"}
    assert {e.letter for e in EntityKind if e.control is ControlType.LETTER} == set("NPQRSW")
    assert {e.letter for e in EntityKind if e.control is ControlType.DIGIT} == set("ABEH")
    assert {e.letter for e in EntityKind if e.control is ControlType.EITHER} == set("CDFGJUV")
    assert EntityKind.LOCAL_CORPORATION.letter == "P"
    assert EntityKind.PUBLIC_AGENCY.description == "organismo público"
    assert EntityKind.PUBLIC_LIMITED_COMPANY.description == "sociedad anónima"
    assert all(e.description for e in EntityKind)
    assert EntityKind.from_letter("S") is EntityKind.STATE_OR_REGIONAL_BODY
    with pytest.raises(IdentifierError) as info:
        EntityKind.from_letter("K")
    assert info.value.reason == "entity-letter"


# --------------------------------------------------------------------------- errors, one per rule

INVALID = [
    ("", "empty", "empty identifier"),
    ("  - . ", "empty", "empty identifier"),
    ("12345678A", "check-letter", "NIF 12345678A: the check letter should be Z, not A"),
    ("12345678", "length", "NIF 12345678: the check letter is missing (it would be Z)"),
    ("1234567Z", "length", "got 8; write the leading zeros (01234567Z)"),
    ("123456789Z", "length", "a DNI has 8 digits and a check letter (9 characters), got 10"),
    ("1234A678Z", "format", "found 'A' at position 5"),
    ("123456789", "format", "is the check letter (Z), not the digit 9"),
    ("X1234567M", "check-letter", "NIE X1234567M: the check letter should be L, not M"),
    ("X123456L", "length", "NIE X123456L: a NIE has 9 characters"),
    ("X12345A7L", "format", "found 'A' at position 7"),
    ("B1234567", "length", "CIF B1234567: a CIF has 9 characters, got 8"),
    ("B12345A74", "format", "CIF B12345A74: characters 2 to 8 of a CIF must be digits"),
    ("B12345675", "check-digit", "CIF B12345675: the control character should be 4, not 5"),
    ("C12345675", "check-digit", "the control character should be 4 or D, not 5"),
    ("Q0000000X", "check-digit", "CIF Q0000000X: the control character should be J, not X"),
    ("A99999999", "check-digit", "CIF A99999999: the control character should be 7, not 9"),
    ("S07330020", "check-digit", "takes a control letter: it should end in J, not 0"),
    ("A4057339F", "check-digit", "takes a control digit: it should end in 6, not F"),
    ("S2833002", "length", "CIF S2833002: a CIF has 9 characters, got 8"),
    ("T1234567A", "prefix", "a CIF with an entity letter (ABCDEFGHJNPQRSUVW), not T"),
    ("K1234567L", "prefix", "K NIFs (natural persons without DNI or NIE) are not accepted here"),
    ("12345678Ñ", "format", "character 9 ('Ñ') is neither a digit nor a letter A-Z"),
    ("１2345678Z", "format", "is neither a digit nor a letter"),  # full-width digit
    ("IDCES-12345678Z", "format", "this is an ETSI identifier"),
]


@pytest.mark.parametrize(("text", "reason", "message"), INVALID)
def test_invalid_identifiers_say_why(text: str, reason: str, message: str) -> None:
    with pytest.raises(IdentifierError) as info:
        parse_spanish_id(text)
    assert info.value.reason == reason
    assert message in str(info.value)
    assert info.value.value in (normalize_id(text), text)
    assert isinstance(info.value, ValueError)


def test_aapp_test_certificates_carry_invalid_cifs() -> None:
    """The Firmaprofesional and Uanataca test seals use made-up, invalid NIFs."""
    for text in ("A99999999", "S2833002", "Q0000000X"):
        with pytest.raises(IdentifierError):
            validate_cif(text)


def test_validate_nif() -> None:
    assert validate_nif(" 12.345.678-z ") == "12345678Z"
    assert validate_nif("x-1234567-l") == "X1234567L"
    assert validate_nif("ES12345678Z") == "12345678Z"
    with pytest.raises(IdentifierError, match=r"NIE W1234567X: a NIE starts with X, Y or Z") as i:
        validate_nif("W1234567X")
    assert i.value.reason == "prefix"
    with pytest.raises(IdentifierError, match="this is the CIF of a legal entity") as i:
        validate_nif("S0733002J")
    assert i.value.reason == "entity-letter"
    with pytest.raises(IdentifierError, match="K NIFs") as i:
        validate_nif("K1234567L")
    assert i.value.reason == "prefix"
    assert validate_nif("K1234567L", allow_klm=True) == "K1234567L"
    with pytest.raises(IdentifierError, match="check letter should be Z") as i:
        validate_nif("12345678A")
    with pytest.raises(IdentifierError) as i:
        validate_nif("")
    assert i.value.reason == "empty"


def test_validators_point_etsi_forms_to_the_etsi_parser() -> None:
    for validate in (validate_nif, validate_cif):
        with pytest.raises(IdentifierError, match="this is an ETSI identifier"):
            validate("VATES-S0733002J")


def test_validate_cif() -> None:
    assert validate_cif("s-0733002-j") == "S0733002J"
    assert validate_cif("ES A40573396") == "A40573396"
    with pytest.raises(IdentifierError, match="this is the NIF of a natural person") as i:
        validate_cif("12345678Z")
    assert i.value.reason == "prefix"
    with pytest.raises(IdentifierError, match="a CIF starts with an entity letter") as i:
        validate_cif("T1234567A")
    assert i.value.reason == "entity-letter"
    with pytest.raises(IdentifierError, match="a CIF starts with an entity letter") as i:
        validate_cif("1234")
    with pytest.raises(IdentifierError, match="a CIF has 9 characters, got 8"):
        validate_cif("B1234567")


def test_klm_nifs() -> None:
    parsed = parse_spanish_id("k1234567l", allow_klm=True)
    assert parsed.kind is IdKind.NIF_KLM
    assert parsed.is_natural_person
    assert not parsed.is_public_body
    assert parsed.etsi_identifier() == EtsiIdentifier("TIN", "ES", "K1234567L")
    with pytest.raises(IdentifierError, match="check letter should be L, not M"):
        parse_spanish_id("K1234567M", allow_klm=True)
    with pytest.raises(IdentifierError, match="a M NIF has 9 characters"):
        parse_spanish_id("M123456L", allow_klm=True)


def test_spanish_id_construction_validates() -> None:
    with pytest.raises(IdentifierError, match="check letter"):
        SpanishId(IdKind.DNI, "12345678A")
    with pytest.raises(IdentifierError, match="is a DNI"):
        SpanishId(IdKind.NIE, "12345678Z")
    with pytest.raises(IdentifierError, match=r"not in normalised form \(12345678Z\)"):
        SpanishId(IdKind.DNI, "12345678z")


def test_normalize_id() -> None:
    assert normalize_id(" es-12.345.678-z\t") == "12345678Z"
    assert normalize_id("ES X1234567L") == "X1234567L"
    assert normalize_id("ESB1234567") == "ESB1234567"  # ES + 8 characters: kept
    assert normalize_id("12 345 678\u2013Z") == "12345678Z"  # en dash
    assert normalize_id("ß") == "ß"  # non-ASCII is kept (and later refused), not upper-cased
    with pytest.raises(TypeError):
        normalize_id(b"12345678Z")  # type: ignore[arg-type]


def test_etsi_forms_of_spanish_ids() -> None:
    assert natural_person_identifier("12345678-z") == "IDCES-12345678Z"
    assert natural_person_identifier("X1234567L") == "IDCES-X1234567L"
    assert legal_person_identifier("s0733002j") == "VATES-S0733002J"
    with pytest.raises(IdentifierError, match="CIF of a legal entity"):
        natural_person_identifier("S0733002J")
    with pytest.raises(IdentifierError, match="NIF of a natural person"):
        legal_person_identifier("12345678Z")
    assert str(parse_spanish_id("Q2826004J").etsi_identifier()) == "VATES-Q2826004J"
    assert str(parse_spanish_id("99999999R").etsi_identifier()) == "IDCES-99999999R"
    assert str(parse_spanish_id("99999999R").etsi_identifier("TIN")) == "TINES-99999999R"


# --------------------------------------------------------------------------- property tests


@given(valid_ids)
@example("00000000T")
@example("S0733002J")
def test_generated_valid_ids_pass(value: str) -> None:
    parsed = parse_spanish_id(value)
    assert parsed.value == value
    assert parsed.kind.value == oracle_kind(value)


@given(klms)
def test_generated_klm_pass(value: str) -> None:
    assert parse_spanish_id(value, allow_klm=True).kind is IdKind.NIF_KLM


def _natural_number(value: str) -> int:
    """The number a natural person's check letter is computed from."""
    head = value[:8]
    if head[0] in "XYZ":
        head = str("XYZ".index(head[0])) + head[1:]
    elif head[0] in "KLM":
        head = "0" + head[1:]
    return int(head)


def _outcome(value: str, *, allow_klm: bool) -> tuple[SpanishId | None, IdentifierError | None]:
    try:
        return parse_spanish_id(value, allow_klm=allow_klm), None
    except IdentifierError as exc:
        return None, exc


def _check_every_substitution(value: str, *, allow_klm: bool) -> set[str]:
    """Substitute every position with every other character of [0-9A-Z].

    Each change is refused with an IdentifierError naming the changed value and a
    known reason, except the changes that, by the design of the schemes, give
    another valid identifier; those are returned after checking they are exactly:

    * position 1 (the first character) of a DNI/NIE/K-L-M NIF turned into another
      natural-person prefix denoting the same number (X<->0, Y<->1, Z<->2, and with
      K/L/M allowed K<->L<->M<->X<->0): same number, same check letter;
    * position 1 of a CIF turned into another entity letter accepting the same
      control form (the entity letter is not covered by the control character);
    * position 1 turned from/to a CIF letter where the check characters happen to
      coincide (a different identifier kind altogether);
    * position 9 of a CIF whose entity letter accepts a digit or a letter: the
      digit d and the letter "JABCDEFGHI"[d] are the same control.

    Positions 2-8 never give a valid identifier: for a DNI/NIE/K-L-M changing one
    digit changes the number by (d' - d) * 10**k with 0 < |d' - d| < 23, never a
    multiple of the prime 23, so the check letter changes; for a CIF an even
    position adds d' - d (not 0 mod 10) and an odd one replaces the digit sum of 2d,
    a permutation of 0-9, so the control value changes. Position 9 of a DNI/NIE is
    its check letter, which is unique.
    """
    original = parse_spanish_id(value, allow_klm=allow_klm)
    still_valid: set[str] = set()
    for position in range(len(value)):
        for ch in ALPHABET:
            if ch == value[position]:
                continue
            mutated = value[:position] + ch + value[position + 1 :]
            expected_kind = oracle_kind(mutated, allow_klm=allow_klm)
            result, error = _outcome(mutated, allow_klm=allow_klm)
            if error is not None:
                assert expected_kind is None, mutated
                assert error.reason in REASONS
                assert mutated in error.message
                assert error.value == mutated
                continue
            assert result is not None
            assert result.kind.value == expected_kind, mutated
            still_valid.add(mutated)
            assert position in (0, 8), mutated
            if position == 8:
                entity = original.entity_kind
                assert entity is not None, mutated
                assert entity.control is ControlType.EITHER
                assert {value[8], ch} == set(cif_check_characters(value[0], value[1:8]))
            elif result.kind is IdKind.CIF and original.kind is IdKind.CIF:
                assert result.value[1:] == value[1:]
            elif result.is_natural_person and original.is_natural_person:
                # K, L and M all count as 0: only they may swap among themselves.
                assert result.kind is not original.kind or result.kind is IdKind.NIF_KLM
                assert _natural_number(mutated) == _natural_number(value)
            else:  # a natural person's NIF <-> a CIF whose control happens to coincide
                assert result.kind is not original.kind
    return still_valid


@settings(max_examples=60)
@given(st.one_of(dnis, nies))
@example("12345678Z")
@example("X1234567L")
def test_single_substitution_of_dni_or_nie_is_detected(value: str) -> None:
    for mutated in _check_every_substitution(value, allow_klm=False):
        assert mutated[1:] == value[1:]
        assert parse_spanish_id(mutated).kind is IdKind.CIF or _natural_number(
            mutated
        ) == _natural_number(value)


@settings(max_examples=60)
@given(cifs())
@example("S0733002J")
@example("C12345674")
def test_single_substitution_of_cif_is_detected(value: str) -> None:
    _check_every_substitution(value, allow_klm=False)


@settings(max_examples=30)
@given(st.one_of(dnis, nies, klms))
def test_single_substitution_with_klm(value: str) -> None:
    _check_every_substitution(value, allow_klm=True)


@pytest.mark.parametrize(
    ("value", "still_valid"),
    [
        # Y2345678: 1 <-> Y denote the same number 12345678.
        ("12345678Z", {"Y2345678Z"}),
        # X1234567 <-> 01234567; Y/Z prefixes give another number.
        ("X1234567L", {"01234567L"}),
        # The entity letter is not protected: every letter that takes a control letter.
        ("S0733002J", {f"{c}0733002J" for c in "NPQRWCDFGJUV"}),
        # A takes a digit: the other digit-or-either letters; no natural-person coincidence.
        ("A40573396", {f"{c}40573396" for c in "BEHCDFGJUV"}),
        # C takes either: both control forms, and the other letters accepting a digit.
        ("C12345674", {"C1234567D"} | {f"{c}12345674" for c in "ABEHDFGJUV"}),
    ],
)
def test_exact_set_of_undetectable_substitutions(value: str, still_valid: set[str]) -> None:
    assert _check_every_substitution(value, allow_klm=False) == still_valid


_decorations = st.lists(st.sampled_from([" ", "-", ".", "\t", "\u2013"]), max_size=3)


@given(valid_ids, st.data())
def test_normalisation_round_trip(value: str, data: st.DataObject) -> None:
    decorated = ""
    for ch in value:
        decorated += "".join(data.draw(_decorations))
        decorated += ch.lower() if data.draw(st.booleans()) else ch
    if data.draw(st.booleans()):
        decorated = data.draw(st.sampled_from(["ES", "es", "ES-", "es "])) + decorated
    assert normalize_id(decorated) == value
    assert parse_spanish_id(decorated).value == value
    assert parse_spanish_id(str(parse_spanish_id(value))).value == value


@given(st.text(max_size=20))
def test_normalize_is_idempotent_and_parse_never_crashes(text: str) -> None:
    once = normalize_id(text)
    assert normalize_id(once) == once
    for parse in (parse_spanish_id, parse_etsi_identifier):
        error: IdentifierError | None = None
        try:
            parse(text)
        except IdentifierError as exc:
            error = exc
        assert error is None or error.reason in REASONS


# --------------------------------------------------------------------------- ETSI identifiers

ETSI_VALID = [
    ("IDCES-99999999R", "IDC", "ES", "99999999R", True, False, False),
    ("IDCES-X1234567L", "IDC", "ES", "X1234567L", True, False, False),
    ("TINES-12345678Z", "TIN", "ES", "12345678Z", True, False, False),
    ("TAXES-12345678Z", "TAX", "ES", "12345678Z", True, False, True),
    ("PASDE-C01X00T47", "PAS", "DE", "C01X00T47", True, False, False),
    ("PNOSE-199001011234", "PNO", "SE", "199001011234", True, False, False),
    ("IDCBE-590082394654", "IDC", "BE", "590082394654", True, False, False),
    ("VATES-S0733002J", "VAT", "ES", "S0733002J", False, True, False),
    ("VATES-12345678Z", "VAT", "ES", "12345678Z", False, True, False),
    ("VATEL-123456789", "VAT", "EL", "123456789", False, True, False),
    ("VATXI-123456789", "VAT", "XI", "123456789", False, True, False),
    ("NTRES-B12345674", "NTR", "ES", "B12345674", False, True, False),
    ("PSDES-BDE-3DFD21", "PSD", "ES", "BDE-3DFD21", False, True, False),
    ("LEIXG-5493001KJTIIGC8Y1R12", "LEI", "XG", "5493001KJTIIGC8Y1R12", False, True, False),
    ("ES:ES-anything", "ES:", "ES", "anything", True, True, False),
]


@pytest.mark.parametrize(
    ("text", "scheme", "country", "reference", "natural", "legal", "deprecated"), ETSI_VALID
)
def test_parse_etsi_identifier(
    text: str,
    scheme: str,
    country: str,
    reference: str,
    natural: bool,
    legal: bool,
    deprecated: bool,
) -> None:
    parsed = parse_etsi_identifier(text)
    assert parsed == EtsiIdentifier(scheme, country, reference)
    assert str(parsed) == text
    assert (parsed.is_natural, parsed.is_legal, parsed.deprecated) == (natural, legal, deprecated)
    assert parsed.is_national_scheme is scheme.endswith(":")
    if natural:
        assert parse_etsi_identifier(text, legal=False) == parsed
    if legal:
        assert parse_etsi_identifier(text, legal=True) == parsed


def test_etsi_spanish_reference() -> None:
    assert parse_etsi_identifier("VATES-S0733002J").spanish_id == SpanishId(IdKind.CIF, "S0733002J")
    assert parse_etsi_identifier("IDCES-99999999R").spanish_id == SpanishId(IdKind.DNI, "99999999R")
    assert parse_etsi_identifier("PASES-AB123456").spanish_id is None
    assert parse_etsi_identifier("IDCFR-123").spanish_id is None
    # Spanish references are stored normalised.
    assert str(parse_etsi_identifier("IDCES-12345678z")) == "IDCES-12345678Z"


ETSI_INVALID = [
    ("", None, "empty", "empty ETSI identifier"),
    ("IDCES12345678Z", None, "format", "no hyphen"),
    ("IDCESP-123", None, "format", "must have 5 characters"),
    ("IDCES-", None, "format", "the reference after the hyphen is empty"),
    ("IDCES-1\n2", None, "format", "spans lines"),
    ("idces-12345678Z", None, "scheme", "the scheme must be 3 upper-case letters"),
    ("ABCES-1", None, "scheme", "unknown scheme ABC"),
    ("IDCes-12345678Z", None, "country", "must be upper-case (ES, not es)"),
    ("IDCE1-12345678Z", None, "country", "the country must be 2 letters"),
    ("IDCZZ-1", None, "country", "ZZ is not an ISO 3166-1 country code"),
    ("IDCEL-1", None, "country", "EL is only for Greek VAT numbers; use GR"),
    ("LEIES-5493001KJTIIGC8Y1R12", None, "country", "uses the country XG, not ES"),
    ("LEIXG-5493001KJTIIGC8Y1R13", None, "check-digit", "ISO 17442"),
    ("LEIXG-5493001KJTIIGC8Y1R1", None, "check-digit", "ISO 17442"),
    ("IDCES-12345678A", None, "check-letter", "the check letter should be Z, not A"),
    ("IDCES-S0733002J", None, "entity-letter", "IDCES- takes a DNI or NIE, but S0733002J is a CIF"),
    ("IDCES-K1234567L", None, "prefix", "but K1234567L is a NIF_KLM"),
    ("VATES-S0733002A", None, "check-digit", "the control character should be J, not A"),
    ("TINES-S0733002J", None, "entity-letter", "the NIF of a natural person"),
    ("VATES-S0733002J", False, "scheme", "VAT is a legal-person scheme"),
    ("IDCES-12345678Z", True, "scheme", "IDC is a natural-person scheme"),
]


@pytest.mark.parametrize(("text", "legal", "reason", "message"), ETSI_INVALID)
def test_invalid_etsi_identifiers_say_why(
    text: str, legal: bool | None, reason: str, message: str
) -> None:
    with pytest.raises(IdentifierError) as info:
        parse_etsi_identifier(text, legal=legal)
    assert info.value.reason == reason
    assert message in str(info.value)


def test_etsi_construction_validates() -> None:
    with pytest.raises(IdentifierError) as info:
        EtsiIdentifier("IDC", "ES", "12345678A")
    assert info.value.reason == "check-letter"
    with pytest.raises(IdentifierError):
        EtsiIdentifier("XYZ", "ES", "1")
    with pytest.raises(IdentifierError, match="empty") as info:
        EtsiIdentifier("PAS", "FR", "")
    assert info.value.reason == "format"
    with pytest.raises(TypeError):
        parse_etsi_identifier(None)  # type: ignore[arg-type]


_national = st.tuples(st.sampled_from(string.ascii_uppercase), st.sampled_from("ABCDEZ")).map(
    lambda t: f"{t[0]}{t[1]}:"
)
_free_reference = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\n\r\x85\u2028\u2029"),
    min_size=1,
    max_size=20,
)


@st.composite
def etsi_identifiers(draw: st.DrawFn) -> EtsiIdentifier:
    scheme = draw(st.sampled_from(sorted(NATURAL_SCHEMES | LEGAL_SCHEMES)) | _national)
    if scheme == "LEI":
        return EtsiIdentifier("LEI", "XG", "5493001KJTIIGC8Y1R12")
    country = draw(st.sampled_from(["ES", "FR", "DE", "PT", "IT", "BE", "EU"]))
    if country == "ES" and scheme in {"IDC", "TIN", "TAX"}:
        reference = draw(st.one_of(dnis, nies))
    elif country == "ES" and scheme == "VAT":
        reference = draw(valid_ids)
    else:
        reference = draw(_free_reference)
    return EtsiIdentifier(scheme, country, reference)


@given(etsi_identifiers())
def test_etsi_round_trip(identifier: EtsiIdentifier) -> None:
    text = str(identifier)
    assert text == f"{identifier.scheme}{identifier.country}-{identifier.reference}"
    assert parse_etsi_identifier(text) == identifier
    assert str(parse_etsi_identifier(text)) == text
    legal = identifier.is_legal and not identifier.is_natural
    assert parse_etsi_identifier(text, legal=legal if not identifier.is_national_scheme else None)


# --------------------------------------------------------------------------- real certificates


def _subject_values(name: str, oid: x509.ObjectIdentifier) -> list[str]:
    cert = load_certificate(real_cert_path(name).read_bytes())
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(oid)]


@pytest.mark.parametrize(
    ("cert", "serial_number", "kind"),
    [
        ("fnmt-test-eidas-certificado-pruebas-99999999R.pem", "99999999R", IdKind.DNI),
        ("fnmt-test-eidas-certificado-pruebas-99999999R-2020.pem", "99999999R", IdKind.DNI),
        ("fnmt-test-empleado-publico-00000000T.pem", "00000000T", IdKind.DNI),
        ("fnmt-test-empleado-publico-alto-firma-centralizada.pem", "99999999R", IdKind.DNI),
    ],
)
def test_natural_person_serial_numbers_of_real_certs(
    cert: str, serial_number: str, kind: IdKind
) -> None:
    (value,) = _subject_values(cert, NameOID.SERIAL_NUMBER)
    parsed = parse_etsi_identifier(value, legal=False)
    assert (parsed.scheme, parsed.country, parsed.reference) == ("IDC", "ES", serial_number)
    assert parsed.spanish_id == SpanishId(kind, serial_number)
    assert natural_person_identifier(serial_number) == value


@pytest.mark.parametrize(
    ("cert", "cif", "entity"),
    [
        ("accv-real-sello-organo-consell-insular-menorca.pem", "S0733002J", "S"),
        ("fnmt-ac-sector-publico.pem", "Q2826004J", "Q"),
        ("accv-root-rsa-eidas-2023.pem", "A40573396", "A"),
        ("accv-rsa1-cliente.pem", "A40573396", "A"),
        ("aapp-test-sello-medio-esfirma-soft.pem", "P0200001F", "P"),
        ("aapp-test-sello-alto-vincasign.pem", "Q0000000J", "Q"),
    ],
)
def test_organization_identifiers_of_real_certs(cert: str, cif: str, entity: str) -> None:
    (value,) = _subject_values(cert, NameOID.ORGANIZATION_IDENTIFIER)
    assert value == f"VATES-{cif}"
    parsed = parse_etsi_identifier(value, legal=True)
    assert parsed.spanish_id is not None
    assert parsed.spanish_id.kind is IdKind.CIF
    assert parsed.spanish_id.entity_kind == EntityKind(entity)
    assert parsed.spanish_id.is_public_body is (entity in "PQS")
    assert legal_person_identifier(cif) == value


def test_seal_serial_numbers_are_the_plain_cif() -> None:
    (value,) = _subject_values(
        "accv-real-sello-organo-consell-insular-menorca.pem", NameOID.SERIAL_NUMBER
    )
    assert validate_cif(value) == "S0733002J"


@pytest.mark.parametrize(
    ("cert", "reason"),
    [
        ("aapp-test-sello-alto-firmaprofesional-hsm.pem", "check-digit"),  # VATES-A99999999
        ("aapp-test-sello-alto-uanataca-nube.pem", "length"),  # VATES-S2833002
        ("aapp-test-sello-medio-vincasign.pem", "check-digit"),  # VATES-Q0000000X
    ],
)
def test_test_seals_with_invalid_organization_identifiers(cert: str, reason: str) -> None:
    (value,) = _subject_values(cert, NameOID.ORGANIZATION_IDENTIFIER)
    with pytest.raises(IdentifierError) as info:
        parse_etsi_identifier(value, legal=True)
    assert info.value.reason == reason


# --------------------------------------------------------------------------- CLI


def test_cli_nif_text() -> None:
    result = CliRunner().invoke(
        main, ["nif", "12345678Z", "s0733002j", "IDCES-99999999R", "TAXES-X1234567L", "ES:ES-1"]
    )
    assert result.exit_code == 0, result.output
    assert "12345678Z: valid DNI (natural person)" in result.output
    assert "ETSI: IDCES-12345678Z, TINES-12345678Z" in result.output
    assert "s0733002j -> S0733002J: valid CIF (legal entity S:" in result.output
    assert "public body: yes" in result.output
    assert "ETSI: VATES-S0733002J" in result.output
    assert "IDCES-99999999R: valid ETSI identifier (scheme IDC, country ES" in result.output
    assert (
        "TAXES-X1234567L: valid ETSI identifier (scheme TAX, country ES, natural person, "
        "deprecated scheme)"
    ) in result.output
    assert "  X1234567L: valid NIE (natural person)" in result.output
    assert "ES:ES-1: valid ETSI identifier (scheme ES:, country ES, natural or legal person)" in (
        result.output
    )


def test_cli_nif_invalid_exits_1() -> None:
    result = CliRunner().invoke(main, ["nif", "12345678Z", "12345678A"])
    assert result.exit_code == 1
    assert "12345678A: INVALID (check-letter): NIF 12345678A: the check letter should be Z" in (
        result.output
    )


def test_cli_nif_json() -> None:
    result = CliRunner().invoke(
        main, ["nif", "--format", "json", "Q2826004J", "K1234567L", "VATES-X", "PASDE-1"]
    )
    assert result.exit_code == 1
    items = json.loads(result.output)
    assert items[0] == {
        "input": "Q2826004J",
        "valid": True,
        "kind": "cif",
        "value": "Q2826004J",
        "natural_person": False,
        "public_body": True,
        "entity_letter": "Q",
        "entity_kind": "PUBLIC_AGENCY",
        "entity_description": "organismo público",
        "etsi": ["VATES-Q2826004J"],
    }
    assert items[1]["kind"] == "nif-klm"
    assert items[1]["etsi"] == ["TINES-K1234567L"]
    assert items[2]["valid"] is False
    assert items[2]["reason"] == "length"
    assert items[3]["valid"] is True
    assert items[3]["etsi_input"]["scheme"] == "PAS"
    assert "kind" not in items[3]


def test_cli_nif_needs_an_argument() -> None:
    result = CliRunner().invoke(main, ["nif"])
    assert result.exit_code == 2


# --------------------------------------------------------------------------- third-party oracles


def _stdnum_accepts(value: str) -> bool:
    try:
        stdnum_nif.validate(value)
    except ValueError:  # stdnum's ValidationError subclasses ValueError
        return False
    return True


def _right_value_wrong_form(value: str) -> bool:
    """A CIF whose control has the right value in the form its entity letter does not take.

    python-stdnum deliberately accepts either form for every entity letter.
    """
    if oracle_kind(value) is not None or not re.fullmatch(r"[A-W][0-9]{7}[0-9A-J]", value):
        return False
    if value[0] not in CIF_ENTITY_LETTERS:
        return False
    accepted_forms = cif_check_characters(value[0], value[1:8])
    if len(accepted_forms) != 1:  # the letter takes either form: nothing to disagree on
        return False
    (accepted,) = accepted_forms
    digit = accepted if accepted.isdigit() else str("JABCDEFGHI".index(accepted))
    return value[8] in {digit, "JABCDEFGHI"[int(digit)]}


@settings(max_examples=40)
@given(st.one_of(dnis, nies, klms, cifs()))
def test_python_stdnum_agrees_on_every_substitution(value: str) -> None:
    """python-stdnum (an independent implementation) agrees on the id and its neighbours."""
    candidates = {value} | {
        value[:i] + ch + value[i + 1 :] for i in range(len(value)) for ch in ALPHABET
    }
    for candidate in candidates:
        ours, _ = _outcome(candidate, allow_klm=True)
        theirs = _stdnum_accepts(candidate)
        if ours is not None:
            assert theirs, candidate
        else:
            assert theirs == _right_value_wrong_form(candidate), candidate


def test_iso_country_codes_match_pkilint() -> None:
    from qcertlib.identifiers import _ISO3166

    assert pkilint_org_id.ISO3166_1_WITH_TRANSNATIONAL_COUNTRY_CODES == _ISO3166


@given(etsi_identifiers())
def test_pkilint_parses_our_etsi_identifiers_the_same_way(identifier: EtsiIdentifier) -> None:
    text = str(identifier)
    scheme = identifier.scheme.rstrip(":")
    if identifier.is_natural:
        natural = pkilint_412_1.parse_natural_person_identifier(text)
        assert (natural.scheme, natural.country, natural.reference) == (
            scheme,
            identifier.country,
            identifier.reference,
        )
        assert natural.is_national_scheme is identifier.is_national_scheme
    if identifier.is_legal:
        legal = pkilint_org_id.parse_organization_identifier(text)
        assert (legal.scheme, legal.country, legal.reference) == (
            scheme,
            identifier.country,
            identifier.reference,
        )
