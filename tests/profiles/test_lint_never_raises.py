"""lint() and detect_profile() never raise on damaged certificates (a finding instead);
inspect() raises only DecodingError."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcertlib.errors import DecodingError
from qcertlib.profiles import Severity, inspect, lint
from tests.conftest import REAL_CERTS

from .certgen import der, issue

SAMPLES = [der(issue("eorgan-seal-qscd")), der(issue("citizen"))] + [
    x509.load_pem_x509_certificate(p.read_bytes()).public_bytes(serialization.Encoding.DER)
    for p in sorted(REAL_CERTS.glob("*.pem"))
]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 3))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged())
def test_lint_and_inspect_survive_byte_changes(data: bytes) -> None:
    report = lint(data)
    assert report.profile is None or isinstance(report.profile, str)
    try:
        inspect(data)
    except DecodingError:
        assert any(
            f.code == "der.malformed" and f.severity is Severity.FATAL for f in report.findings
        )


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(SAMPLES[0]) - 1))
def test_lint_survives_truncation(cut: int) -> None:
    report = lint(SAMPLES[0][:cut])
    assert not report.ok
    assert report.findings[0].code == "der.malformed"
