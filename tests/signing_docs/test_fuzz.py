"""Damaged signed documents give a report or a QcertError, never a raw exception."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from qcertlib.errors import QcertError
from qcertlib.signing.options import SignatureLevel, SignatureOptions
from qcertlib.signing.pades import sign_pades
from qcertlib.signing.timestamps import Timestamper
from qcertlib.signing.xades import sign_xades
from qcertlib.validation import ValidationPolicy, ValidationReport, validate_pdf, validate_xml
from tests.signing_docs.conftest import Pki, make_pdf


def _mutants(data: bytes, count: int, seed: int) -> list[bytes]:
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        b = bytearray(data)
        kind = rnd.random()
        if kind < 0.5:  # a few bytes changed
            for _ in range(rnd.randint(1, 4)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
        elif kind < 0.8:  # truncated
            b = b[: rnd.randrange(len(b))]
        else:  # a slice removed
            start = rnd.randrange(len(b))
            del b[start : start + rnd.randint(1, 50)]
        out.append(bytes(b))
    return out


@pytest.mark.parametrize("fmt", ["pdf", "xml"])
def test_damaged_signed_documents_never_raise_raw_errors(
    fmt: str, pki: Pki, tsa: Timestamper
) -> None:
    options = SignatureOptions(level=SignatureLevel.B_LT)
    validate: Callable[[bytes, ValidationPolicy], ValidationReport]
    if fmt == "pdf":
        signed = sign_pades(make_pdf(), pki.backend(), options, timestamper=tsa)
        validate = validate_pdf
    else:
        signed = sign_xades(
            b"<a xmlns='urn:x'><b>1</b></a>", pki.backend(), options, timestamper=tsa
        )
        validate = validate_xml
    policy = ValidationPolicy(trust_roots=(pki.root,))
    for mutant in _mutants(signed, 80, seed=20261121):
        try:
            report = validate(mutant, policy)
        except QcertError:
            continue
        assert isinstance(report, ValidationReport)
