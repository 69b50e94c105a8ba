from __future__ import annotations

import string
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key, pkcs12

from qcertlib.errors import (
    AlreadyRevokedError,
    GenerationCodeError,
    IssuanceError,
    UnknownCertificateError,
)
from qcertlib.issuance import CertificateAuthority, RevocationReason
from qcertlib.issuance.registry import CodeStatus
from tests.conftest import require_tool
from tests.issuance._helpers import T0, epoch, make_ca, raw_leaf, run, write_pem


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return make_ca(tmp_path / "pki")


# -- revocation ---------------------------------------------------------------------------


def test_revoke_records_time_and_reason(ca: CertificateAuthority) -> None:
    cert, _ = raw_leaf(ca)
    record = ca.revoke(cert.serial_number, "keyCompromise", at=T0 + timedelta(hours=1))
    assert record.revoked
    assert record.reason is RevocationReason.KEY_COMPROMISE
    assert record.revoked_at == T0 + timedelta(hours=1)


def test_revoking_twice_is_a_clear_error(ca: CertificateAuthority) -> None:
    cert, _ = raw_leaf(ca)
    ca.revoke(cert.serial_number, at=T0)
    with pytest.raises(AlreadyRevokedError, match=r"already revoked .* irreversible"):
        ca.revoke(cert.serial_number, RevocationReason.SUPERSEDED, at=T0)


def test_revoking_an_unknown_serial(ca: CertificateAuthority) -> None:
    with pytest.raises(UnknownCertificateError):
        ca.revoke(0xABCDEF, at=T0)


@pytest.mark.parametrize("reason", ["certificateHold", "removeFromCRL"])
def test_hold_reasons_do_not_exist(reason: str) -> None:
    with pytest.raises(ValueError, match="irreversible"):
        RevocationReason.parse(reason)


def test_reason_names_parse_in_several_spellings() -> None:
    assert RevocationReason.parse("key-compromise") is RevocationReason.KEY_COMPROMISE
    assert RevocationReason.parse("CESSATION_OF_OPERATION") is (
        RevocationReason.CESSATION_OF_OPERATION
    )
    assert RevocationReason.parse("superseded").flag is x509.ReasonFlags.superseded


# -- CRLs -------------------------------------------------------------------------------------


def test_crl_lists_revoked_certificates_with_reasons(ca: CertificateAuthority) -> None:
    good, _ = raw_leaf(ca)
    bad, _ = raw_leaf(ca)
    plain, _ = raw_leaf(ca)
    ca.revoke(bad.serial_number, RevocationReason.KEY_COMPROMISE, at=T0 + timedelta(hours=1))
    ca.revoke(plain.serial_number, at=T0 + timedelta(hours=1))
    crl = ca.build_crl(at=T0 + timedelta(hours=2))
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    entry = crl.get_revoked_certificate_by_serial_number(bad.serial_number)
    assert entry is not None
    assert entry.revocation_date_utc == T0 + timedelta(hours=1)
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is (
        x509.ReasonFlags.key_compromise
    )
    unspecified = crl.get_revoked_certificate_by_serial_number(plain.serial_number)
    assert unspecified is not None
    assert len(unspecified.extensions) == 0  # RFC 5280: omit the unspecified reason code
    assert crl.get_revoked_certificate_by_serial_number(good.serial_number) is None
    assert crl.last_update_utc == T0 + timedelta(hours=2)
    assert crl.next_update_utc == T0 + timedelta(hours=2, days=7)
    assert crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)


def test_crl_numbers_increase(ca: CertificateAuthority) -> None:
    numbers = [
        ca.build_crl(at=T0 + timedelta(hours=i))
        .extensions.get_extension_for_class(x509.CRLNumber)
        .value.crl_number
        for i in range(3)
    ]
    assert numbers == [1, 2, 3]


def test_crl_at_a_past_time_ignores_later_revocations(ca: CertificateAuthority) -> None:
    cert, _ = raw_leaf(ca)
    ca.revoke(cert.serial_number, at=T0 + timedelta(days=2))
    assert (
        ca.build_crl(at=T0 + timedelta(days=1)).get_revoked_certificate_by_serial_number(
            cert.serial_number
        )
        is None
    )


def test_openssl_verifies_the_crl_and_sees_the_revoked_certificate(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    tools = require_tool("openssl")
    good, _ = raw_leaf(ca)
    bad, _ = raw_leaf(ca)
    ca.revoke(bad.serial_number, RevocationReason.KEY_COMPROMISE, at=T0 + timedelta(hours=1))
    crl_path = write_pem(tmp_path / "ca.crl", ca.build_crl(at=T0 + timedelta(hours=2)))
    chain = write_pem(tmp_path / "chain.pem", ca.certificate, ca.root)
    checked = run([tools["openssl"], "crl", "-in", str(crl_path), "-CAfile", str(chain), "-noout"])
    assert checked.returncode == 0
    assert any(line == "verify OK" for line in checked.stderr.splitlines()), checked.stderr
    when = epoch(T0 + timedelta(hours=3))
    verify = [
        tools["openssl"],
        "verify",
        "-attime",
        when,
        "-crl_check",
        "-CAfile",
        str(tmp_path / "pki" / "root.pem"),
        "-untrusted",
        str(tmp_path / "pki" / "ca.pem"),
        "-CRLfile",
        str(crl_path),
    ]
    ok = run([*verify, str(write_pem(tmp_path / "good.pem", good))])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    revoked = run([*verify, str(write_pem(tmp_path / "bad.pem", bad))])
    assert revoked.returncode != 0
    assert "certificate revoked" in revoked.stdout + revoked.stderr


def test_openssl_rejects_a_crl_with_a_broken_signature(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    tools = require_tool("openssl")
    der = bytearray(ca.build_crl(at=T0).public_bytes(Encoding.DER))
    der[-5] ^= 0x01
    (tmp_path / "bad.crl").write_bytes(bytes(der))
    chain = write_pem(tmp_path / "chain.pem", ca.certificate, ca.root)
    checked = run(
        [
            tools["openssl"],
            "crl",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "bad.crl"),
            "-CAfile",
            str(chain),
            "-noout",
        ]
    )
    assert not any(line == "verify OK" for line in checked.stderr.splitlines())


def test_pkilint_finds_no_error_in_the_crl(ca: CertificateAuthority, tmp_path: Path) -> None:
    tools = require_tool("lint_crl")
    bad, _ = raw_leaf(ca)
    ca.revoke(bad.serial_number, RevocationReason.CESSATION_OF_OPERATION, at=T0)
    crl_path = write_pem(tmp_path / "ca.crl", ca.build_crl(at=T0 + timedelta(hours=1)))
    result = run(
        [tools["lint_crl"], "lint", "-t", "CRL", "-p", "PKIX", "-s", "ERROR", str(crl_path)]
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- the root's CRL (ARL), named by the issuing CA's CRL distribution point -----------------


def test_root_crl_is_signed_by_the_root_and_numbered_on_its_own(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    tools = require_tool("openssl", "lint_crl")
    ca.build_crl(at=T0)
    ca.build_crl(at=T0)
    first = ca.build_root_crl(at=T0)
    second = ca.build_root_crl(at=T0 + timedelta(days=1))
    numbers = [
        c.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        for c in (first, second)
    ]
    assert numbers == [1, 2]  # independent of the issuing CA's CRL numbers (already at 2)
    assert second.issuer == ca.root.subject
    assert len(second) == 0
    root_key = ca.root.public_key()
    assert isinstance(root_key, ec.EllipticCurvePublicKey)
    assert second.is_signature_valid(root_key)
    assert ca.registry.latest_crl(root=True) == (2, second.public_bytes(Encoding.DER))
    dp = ca.certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for d in dp for n in d.full_name or ()] == [f"{ca.base_url}/root.crl"]
    crl_path = write_pem(tmp_path / "root.crl", second)
    root_path = write_pem(tmp_path / "root.pem", ca.root)
    checked = run(
        [tools["openssl"], "crl", "-in", str(crl_path), "-CAfile", str(root_path), "-noout"]
    )
    assert "verify OK" in checked.stderr.splitlines()
    linted = run(
        [tools["lint_crl"], "lint", "-t", "ARL", "-p", "PKIX", "-s", "ERROR", str(crl_path)]
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_openssl_crl_check_all_passes_with_root_and_ca_crls(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    tools = require_tool("openssl")
    leaf, _ = raw_leaf(ca)
    crls = tmp_path / "crls.pem"
    crls.write_bytes(
        ca.build_root_crl(at=T0).public_bytes(Encoding.PEM)
        + ca.build_crl(at=T0).public_bytes(Encoding.PEM)
    )
    root_path = write_pem(tmp_path / "root.pem", ca.root)
    ca_path = write_pem(tmp_path / "ca.pem", ca.certificate)
    leaf_path = write_pem(tmp_path / "leaf.pem", leaf)
    checked = run(
        [
            tools["openssl"],
            "verify",
            "-crl_check_all",
            "-attime",
            epoch(T0 + timedelta(hours=1)),
            "-CAfile",
            str(root_path),
            "-untrusted",
            str(ca_path),
            "-CRLfile",
            str(crls),
            str(leaf_path),
        ]
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _delivered_key(fmt: str, data: bytes, pin: str) -> object:
    if fmt == "pkcs12":
        loaded, _, _ = pkcs12.load_key_and_certificates(data, pin.encode())
    else:
        assert fmt == "pem"
        loaded = load_pem_private_key(data, pin.encode())
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    return loaded.private_numbers()


# -- generation codes (for an issued certificate whose key the CA generated) --------------


def test_code_is_ten_case_sensitive_alphanumerics(ca: CertificateAuthority) -> None:
    cert, key = raw_leaf(ca)
    code = ca.new_code(cert.serial_number, private_key=key, at=T0)
    assert len(code) == 10
    assert set(code) <= set(string.ascii_letters + string.digits)
    assert len(ca.new_code(cert.serial_number, private_key=key, length=25, at=T0)) == 25


def test_redeeming_yields_the_key_and_certificate_once(ca: CertificateAuthority) -> None:
    cert, key = raw_leaf(ca)
    code = ca.new_code(cert.serial_number, private_key=key, at=T0)
    got = ca.redeem(code, "1234-pin", nif="12345678z", at=T0 + timedelta(days=1))
    assert got.certificate == cert
    assert _delivered_key(got.format, got.data, "1234-pin") == key.private_numbers()
    with pytest.raises(GenerationCodeError, match="already used") as used:
        ca.redeem(code, "1234-pin", nif="12345678Z", at=T0 + timedelta(days=1))
    assert used.value.reason == "used"
    assert code not in str(used.value)


def test_code_expires_after_fifteen_days(ca: CertificateAuthority) -> None:
    cert, key = raw_leaf(ca)
    code = ca.new_code(cert.serial_number, private_key=key, at=T0)
    with pytest.raises(GenerationCodeError, match="expired") as expired:
        ca.redeem(code, "pin-1234", nif="12345678Z", at=T0 + timedelta(days=15))
    assert expired.value.reason == "expired"


def test_three_wrong_tries_void_the_code(ca: CertificateAuthority) -> None:
    cert, key = raw_leaf(ca)
    code = ca.new_code(cert.serial_number, private_key=key, at=T0)
    wrong = code.swapcase() if code.swapcase() != code else "0" * 10
    lefts = []
    for _ in range(2):
        with pytest.raises(GenerationCodeError) as err:
            ca.redeem(wrong, "pin-1234", nif="12345678Z", at=T0)
        assert err.value.reason == "wrong"
        lefts.append(err.value.tries_left)
    assert lefts == [2, 1]
    with pytest.raises(GenerationCodeError, match="last allowed try") as third:
        ca.redeem(wrong, "pin-1234", nif="12345678Z", at=T0)
    assert third.value.reason == "exhausted"
    with pytest.raises(GenerationCodeError) as after:
        ca.redeem(code, "pin-1234", nif="12345678Z", at=T0)  # even the right code now
    assert after.value.reason == "exhausted"
    assert ca.registry.codes("12345678Z")[0].status is CodeStatus.EXHAUSTED


def test_a_new_code_replaces_the_old_one(ca: CertificateAuthority) -> None:
    cert, key = raw_leaf(ca)
    old = ca.new_code(cert.serial_number, private_key=key, at=T0)
    new = ca.new_code(cert.serial_number, private_key=key, at=T0)
    with pytest.raises(GenerationCodeError, match="replaced") as replaced:
        ca.redeem(old, "pin-1234", nif="12345678Z", at=T0)
    assert replaced.value.reason == "expired"
    assert ca.redeem(new, "pin-1234", nif="12345678Z", at=T0).certificate == cert


def test_holder_without_code(ca: CertificateAuthority) -> None:
    with pytest.raises(GenerationCodeError) as err:
        ca.redeem("AAAAAAAAAA", "pin-1234", nif="00000000T", at=T0)
    assert err.value.reason == "unknown"


def test_code_needs_the_matching_private_key(ca: CertificateAuthority) -> None:
    cert, _ = raw_leaf(ca)
    _, other = raw_leaf(ca)
    with pytest.raises(ValueError, match="does not belong"):
        ca.new_code(cert.serial_number, private_key=other, at=T0)


def test_package_as_pem_encrypts_the_key_with_the_pin(ca: CertificateAuthority) -> None:
    from qcertlib.issuance.lifecycle import package

    cert, key = raw_leaf(ca)
    packed = package(ca, key, cert, "pin-1357", as_pem=True)
    assert packed.format == "pem"
    assert b"ENCRYPTED PRIVATE KEY" in packed.data
    assert packed.data.count(b"BEGIN CERTIFICATE") == 3  # leaf, issuing CA, root
    assert _delivered_key("pem", packed.data, "pin-1357") == key.private_numbers()
    assert "pin-1357" not in repr(packed)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"length": 5}, "between 6 and 64"),
        ({"max_tries": 0}, "at least 1"),
        ({"ttl": timedelta(0)}, "positive"),
    ],
)
def test_code_policy_parameters_are_checked(
    ca: CertificateAuthority, kwargs: dict[str, object], message: str
) -> None:
    cert, key = raw_leaf(ca)
    with pytest.raises(ValueError, match=message):
        ca.new_code(cert.serial_number, private_key=key, at=T0, **kwargs)  # type: ignore[arg-type]


def test_no_code_for_a_revoked_certificate(ca: CertificateAuthority) -> None:
    cert, key = raw_leaf(ca)
    ca.revoke(cert.serial_number, at=T0)
    with pytest.raises(IssuanceError, match="revoked"):
        ca.new_code(cert.serial_number, private_key=key, at=T0)
