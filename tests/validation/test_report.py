"""The report model: worst indication, renderings."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from qcertlib.signing import SignatureLevel
from qcertlib.validation import (
    Indication,
    RevocationStatus,
    SignatureReport,
    SubIndication,
    ValidationPolicy,
    ValidationReport,
)

_T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_worst_indication_wins() -> None:
    ok = SignatureReport(Indication.TOTAL_PASSED, level=SignatureLevel.B_T, timestamp_time=_T)
    bad = SignatureReport(Indication.TOTAL_FAILED, SubIndication.HASH_FAILURE)
    maybe = SignatureReport(Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND)
    report = ValidationReport("doc", (ok, maybe, bad))
    assert report.indication is Indication.TOTAL_FAILED
    assert report.subindication is SubIndication.HASH_FAILURE
    assert not report.passed
    assert ValidationReport("doc", (ok,)).passed


def test_no_signature_is_indeterminate() -> None:
    report = ValidationReport("doc", ())
    assert report.indication is Indication.INDETERMINATE
    assert report.subindication is SubIndication.SIGNED_DATA_NOT_FOUND
    assert "No signature" in report.to_text()


def test_json_and_text_renderings() -> None:
    sig = SignatureReport(
        Indication.TOTAL_FAILED,
        SubIndication.REVOKED,
        level=SignatureLevel.B_LT,
        signing_time=_T,
        revocation_status=RevocationStatus.REVOKED,
        messages=("signer revoked",),
        format="cades",
    )
    report = ValidationReport("x.p7s", (sig,))
    data = json.loads(report.to_json())
    assert data["indication"] == "TOTAL_FAILED"
    assert data["signatures"][0]["subindication"] == "REVOKED"
    assert data["signatures"][0]["level"] == "B-LT"
    assert data["signatures"][0]["signing_time"] == _T.isoformat()
    text = report.to_text()
    assert "TOTAL_FAILED / REVOKED" in text
    assert "signer revoked" in text


def test_policy_needs_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        ValidationPolicy(at=datetime(2026, 1, 1))
