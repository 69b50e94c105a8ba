"""Holder data: who a certificate is for, validated on construction.

:class:`Citizen` is a natural person identified by a Spanish DNI or NIE;
:class:`PublicBody` is a public administration, body or public-law entity
identified by its CIF. Seals (Ley 40/2015) are issued only to public bodies, so a
:class:`PublicBody` NIF must be a CIF whose letter is P (local corporation),
Q (public agency) or S (State / regional body); companies and people are refused.

Bad data raises :class:`~qcertlib.errors.HolderDataError` (or
:class:`~qcertlib.errors.IdentifierError` for an invalid NIF/NIE/CIF); both are
:class:`ValueError` too.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from qcertlib.errors import HolderDataError
from qcertlib.identifiers import (
    legal_person_identifier,
    natural_person_identifier,
    parse_spanish_id,
    validate_cif,
    validate_nif,
)

__all__ = ["Citizen", "Custodian", "Holder", "HolderKind", "PublicBody", "holder_fields"]


class HolderKind(enum.Enum):
    """Who a profile is for."""

    CITIZEN = "citizen"
    PUBLIC_BODY = "public-body"


_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
# Control characters and the separators the profiles use inside values ("|" in ACCV's
# SAN CN "NOMBRE|APELLIDO1|APELLIDO2").
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f|]")
_MAX_NAME = 128


def _clean_name(value: object, what: str, *, required: bool = True) -> str | None:
    if value is None:
        if required:
            raise HolderDataError(f"{what} is required")
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str")
    cleaned = " ".join(value.split())
    if not cleaned:
        if required:
            raise HolderDataError(f"{what} is empty")
        return None
    if _FORBIDDEN.search(cleaned):
        raise HolderDataError(f"{what} contains a control character or '|': {cleaned!r}")
    if len(cleaned) > _MAX_NAME:
        raise HolderDataError(f"{what} is longer than {_MAX_NAME} characters")
    return cleaned


def _clean_email(value: object, what: str, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise HolderDataError(f"{what} is required")
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str")
    email = value.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise HolderDataError(f"{what} is not a valid e-mail address: {email!r}")
    return email


def _natural_nif(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str")
    return validate_nif(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Citizen:
    """A natural person (citizen certificate holder).

    ``nif`` is a DNI or NIE (check letter verified, normalised to upper case without
    separators); ``email`` is mandatory (ACCV puts it first in the SAN).
    """

    given_name: str
    first_surname: str
    second_surname: str | None = None
    nif: str
    email: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "given_name", _clean_name(self.given_name, "given_name"))
        object.__setattr__(self, "first_surname", _clean_name(self.first_surname, "first_surname"))
        object.__setattr__(
            self,
            "second_surname",
            _clean_name(self.second_surname, "second_surname", required=False),
        )
        object.__setattr__(self, "nif", _natural_nif(self.nif, "nif"))
        object.__setattr__(self, "email", _clean_email(self.email, "email", required=True))

    @property
    def surnames(self) -> str:
        """Both surnames separated by a space (or the only one)."""
        if self.second_surname:
            return f"{self.first_surname} {self.second_surname}"
        return self.first_surname


@dataclass(frozen=True, slots=True, kw_only=True)
class Custodian:
    """The person responsible for a seal ("responsable"); optional in AAPP profiles."""

    given_name: str
    first_surname: str
    second_surname: str | None = None
    nif: str
    email: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "given_name", _clean_name(self.given_name, "given_name"))
        object.__setattr__(self, "first_surname", _clean_name(self.first_surname, "first_surname"))
        object.__setattr__(
            self,
            "second_surname",
            _clean_name(self.second_surname, "second_surname", required=False),
        )
        object.__setattr__(self, "nif", _natural_nif(self.nif, "custodian nif"))
        object.__setattr__(
            self, "email", _clean_email(self.email, "custodian email", required=False)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicBody:
    """A public administration, body or public-law entity (seal holder).

    ``nif`` must be a valid CIF of a public body (letter P, Q or S), otherwise
    :class:`~qcertlib.errors.HolderDataError`. ``system_name`` is the system or
    application that uses the seal (subject CN, AAPP SAN field .5).
    """

    name: str
    nif: str
    system_name: str
    unit: str | None = None
    custodian: Custodian | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _clean_name(self.name, "name"))
        object.__setattr__(self, "system_name", _clean_name(self.system_name, "system_name"))
        object.__setattr__(self, "unit", _clean_name(self.unit, "unit", required=False))
        object.__setattr__(self, "email", _clean_email(self.email, "email", required=False))
        if not isinstance(self.nif, str):
            raise TypeError("nif must be a str")
        cif = validate_cif(self.nif)
        if not parse_spanish_id(cif).is_public_body:
            raise HolderDataError(
                f"{cif} is not the CIF of a public body (letter P, Q or S): seals are issued "
                "only to public administrations, bodies and public-law entities"
            )
        object.__setattr__(self, "nif", cif)
        if self.custodian is not None and not isinstance(self.custodian, Custodian):
            raise TypeError("custodian must be a Custodian")


#: A certificate holder.
Holder = Citizen | PublicBody


def holder_fields(holder: Holder) -> dict[str, str | None]:
    """The template fields a profile can use for *holder* (see ``render_template``).

    Citizen: ``given_name first_surname second_surname surnames full_name nif
    natural_id email``. Public body: ``name nif legal_id system_name unit email
    contact_email custodian_given_name custodian_first_surname
    custodian_second_surname custodian_nif custodian_email``.
    """
    if isinstance(holder, Citizen):
        return {
            "given_name": holder.given_name,
            "first_surname": holder.first_surname,
            "second_surname": holder.second_surname,
            "surnames": holder.surnames,
            "full_name": f"{holder.given_name} {holder.surnames}",
            "nif": holder.nif,
            "natural_id": natural_person_identifier(holder.nif),
            "email": holder.email,
        }
    if isinstance(holder, PublicBody):
        c = holder.custodian
        return {
            "name": holder.name,
            "nif": holder.nif,
            "legal_id": legal_person_identifier(holder.nif),
            "system_name": holder.system_name,
            "unit": holder.unit,
            "email": holder.email,
            "contact_email": holder.email or (c.email if c else None),
            "custodian_given_name": c.given_name if c else None,
            "custodian_first_surname": c.first_surname if c else None,
            "custodian_second_surname": c.second_surname if c else None,
            "custodian_nif": c.nif if c else None,
            "custodian_email": c.email if c else None,
        }
    raise TypeError(f"not a holder: {type(holder).__name__}")
