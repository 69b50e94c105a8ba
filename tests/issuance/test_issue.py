"""CertificateAuthority.issue through the real profiles, checked by real oracles."""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from qcertlib.errors import (
    CsrError,
    GenerationCodeError,
    HolderDataError,
    IdentifierError,
    IssuanceError,
    LintRefusal,
    RenewalWindowError,
    ValidityError,
    WeakKeyError,
)
from qcertlib.issuance import (
    CertificateAuthority,
    CertificateStatus,
    KeySpec,
    PendingRequest,
    Registry,
    RevocationReason,
    build_csr,
    generate_key,
)
from qcertlib.profiles import Citizen, PublicBody, get_profile, lint
from tests.conftest import require_tool
from tests.issuance._helpers import T0, epoch, make_ca, run, write_pem

CITIZEN = Citizen(
    given_name="ANA MARÍA",
    first_surname="GARCÍA",
    second_surname="LÓPEZ",
    nif="12345678Z",
    email="ana.garcia@example.com",
)
SEAL = PublicBody(
    name="CONSELL DE PROVES",
    nif="S0733002J",
    system_name="PLATAFORMA DE PROVES",
    email="seu@example.com",
)


@dataclass(frozen=True)
class Variant:
    profile: str
    holder: Any
    months: int | None
    pkilint_type: str


VARIANTS = [
    Variant("citizen", CITIZEN, None, "NCP-NATURAL-PERSON-CERTIFICATE"),
    Variant("citizen-qscd", CITIZEN, None, "QCP-N-QSCD-EIDAS-FINAL-CERTIFICATE"),
    Variant("eorgan-seal", SEAL, 12, "NCP-LEGAL-PERSON-CERTIFICATE"),
    Variant("eorgan-seal", SEAL, 24, "NCP-LEGAL-PERSON-CERTIFICATE"),
    Variant("eorgan-seal-qscd", SEAL, 24, "NCP-LEGAL-PERSON-CERTIFICATE"),
]
IDS = [f"{v.profile}-{v.months or 36}m" for v in VARIANTS]


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return make_ca(tmp_path_factory.mktemp("issue") / "pki")


@pytest.fixture
def fresh_ca(tmp_path: Path) -> CertificateAuthority:
    return make_ca(tmp_path / "pki")


def _ec() -> Any:
    return generate_key(KeySpec.EC_P256).public_key()


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_every_variant_verifies_with_openssl_and_passes_our_lint(
    ca: CertificateAuthority, variant: Variant, tmp_path: Path
) -> None:
    # pkilint runs on every variant in test_cli.py (issued through `qcert issue`).
    tools = require_tool("openssl")
    cert = ca.issue(variant.profile, variant.holder, _ec(), months=variant.months, at=T0)
    leaf = write_pem(tmp_path / "leaf.pem", cert)
    verified = run(
        [
            tools["openssl"],
            "verify",
            "-attime",
            epoch(T0 + timedelta(days=1)),
            "-CAfile",
            str(ca.files.cert("root")),
            "-untrusted",
            str(ca.files.cert("ca")),
            str(leaf),
        ]
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip() == f"{leaf}: OK"
    assert lint(cert, variant.profile, at=T0).ok
    assert get_profile(variant.profile).pkilint_type == variant.pkilint_type


@pytest.mark.parametrize("variant", VARIANTS, ids=IDS)
def test_validity_comes_from_the_profile(ca: CertificateAuthority, variant: Variant) -> None:
    cert = ca.issue(variant.profile, variant.holder, _ec(), months=variant.months, at=T0)
    assert cert.not_valid_before_utc == T0
    expected = get_profile(variant.profile).validity_for(variant.months)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == expected


def test_issued_certificate_is_recorded(ca: CertificateAuthority) -> None:
    cert = ca.issue("citizen", CITIZEN, _ec(), at=T0)
    record = ca.registry.get(cert.serial_number)
    assert record.profile == "citizen"
    assert record.status is CertificateStatus.VALID
    assert record.holder["nif"] == "12345678Z"
    assert record.certificate == cert


def test_serial_aki_aia_and_crldp(ca: CertificateAuthority) -> None:
    cert = ca.issue("citizen", CITIZEN, _ec(), at=T0)
    assert cert.serial_number >= 1 << 64
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    urls = {(d.access_method.dotted_string, d.access_location.value) for d in aia}
    assert ("1.3.6.1.5.5.7.48.2", "http://pki.example.com/ca.crt") in urls
    assert ("1.3.6.1.5.5.7.48.1", "http://pki.example.com/ocsp") in urls
    crldp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert crldp[0].full_name is not None
    assert crldp[0].full_name[0].value == "http://pki.example.com/ca.crl"


def test_validity_never_passes_the_ca_not_after(ca: CertificateAuthority) -> None:
    late = ca.certificate.not_valid_after_utc - timedelta(days=100)
    cert = ca.issue("citizen", CITIZEN, _ec(), at=late)
    assert cert.not_valid_after_utc == ca.certificate.not_valid_after_utc


def test_issue_from_a_csr(ca: CertificateAuthority) -> None:
    key = generate_key(KeySpec.EC_P256)
    csr = build_csr(CITIZEN, get_profile("citizen"), key)
    cert = ca.issue("citizen", CITIZEN, csr.public_bytes(Encoding.PEM), at=T0)
    assert cert.public_key() == key.public_key()
    assert cert.subject == csr.subject


def test_csr_for_another_holder_is_refused(ca: CertificateAuthority) -> None:
    other = Citizen(
        given_name="PEDRO", first_surname="PÉREZ", nif="00000000T", email="p@example.com"
    )
    csr = build_csr(other, get_profile("citizen"), generate_key(KeySpec.EC_P256))
    with pytest.raises(CsrError, match="does not match the holder"):
        ca.issue("citizen", CITIZEN, csr, at=T0)


def test_csr_with_a_broken_signature_is_refused(ca: CertificateAuthority) -> None:
    csr = build_csr(CITIZEN, get_profile("citizen"), generate_key(KeySpec.EC_P256))
    der = bytearray(csr.public_bytes(Encoding.DER))
    der[-3] ^= 0x40
    with pytest.raises(CsrError, match=r"signature does not verify|not a well-formed"):
        ca.issue("citizen", CITIZEN, bytes(der), at=T0)


def test_csr_garbage_is_refused(ca: CertificateAuthority) -> None:
    with pytest.raises(CsrError, match="not a well-formed"):
        ca.issue("citizen", CITIZEN, b"not a csr", at=T0)


# -- refusals -------------------------------------------------------------------------------


def test_rsa_1024_key_is_refused(ca: CertificateAuthority) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    with pytest.raises(WeakKeyError, match="1024"):
        ca.issue("citizen", CITIZEN, weak.public_key(), at=T0)


def test_p192_key_is_refused(ca: CertificateAuthority) -> None:
    # cryptography 50 still generates SECP192R1 keys, so the real P-192 curve is used.
    weak = ec.generate_private_key(ec.SECP192R1())
    with pytest.raises(WeakKeyError, match=r"secp192r1|P-192"):
        ca.issue("citizen", CITIZEN, weak.public_key(), at=T0)


def test_weak_key_in_a_csr_is_refused(ca: CertificateAuthority) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    from cryptography.hazmat.primitives import hashes

    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(get_profile("citizen").subject_for(CITIZEN))
        .sign(weak, hashes.SHA256())
    )
    with pytest.raises(WeakKeyError):
        ca.issue("citizen", CITIZEN, csr, at=T0)


def test_private_key_instead_of_public_key_is_a_type_error(ca: CertificateAuthority) -> None:
    with pytest.raises(TypeError, match="public key"):
        ca.issue("citizen", CITIZEN, generate_key(KeySpec.EC_P256), at=T0)  # type: ignore[arg-type]  # misuse on purpose


@pytest.mark.parametrize(
    ("profile", "holder", "months"),
    [
        ("eorgan-seal", SEAL, 36),
        ("eorgan-seal", SEAL, 72),
        ("citizen", CITIZEN, 72),
        ("citizen", CITIZEN, 48),
    ],
)
def test_validity_over_the_caps_is_refused(
    ca: CertificateAuthority, profile: str, holder: Any, months: int
) -> None:
    with pytest.raises(ValidityError):
        ca.issue(profile, holder, _ec(), months=months, at=T0)


def test_invalid_nif_is_refused() -> None:
    with pytest.raises(IdentifierError):
        Citizen(given_name="ANA", first_surname="GARCIA", nif="12345678A", email="a@example.com")


@pytest.mark.parametrize("cif", ["A58818501", "B65410011"])
def test_seal_for_a_company_cif_is_refused(cif: str) -> None:
    with pytest.raises(HolderDataError, match=r"(?i)public bod"):
        PublicBody(name="EMPRESA SA", nif=cif, system_name="ERP")


def test_seal_for_a_person_is_refused(ca: CertificateAuthority) -> None:
    with pytest.raises((HolderDataError, IdentifierError)):
        PublicBody(name="ANA GARCIA", nif="12345678Z", system_name="APP")
    with pytest.raises(HolderDataError):
        ca.issue("eorgan-seal", CITIZEN, _ec(), at=T0)


def test_lint_gate_refuses_and_records_nothing(fresh_ca: CertificateAuthority) -> None:
    bad = get_profile("citizen").derive(
        name="citizen-http-pds", pds=[("http://pds.example.com/en", "en")]
    )
    with pytest.raises(LintRefusal, match="qc_pds_url_not_https") as refused:
        fresh_ca.issue(bad, CITIZEN, _ec(), at=T0)
    assert not refused.value.report.ok
    assert fresh_ca.registry.certificates() == []


# -- renewal ------------------------------------------------------------------------------------


def test_renewal_before_the_window_says_when_it_opens(fresh_ca: CertificateAuthority) -> None:
    cert = fresh_ca.issue("citizen", CITIZEN, _ec(), at=T0)
    opens = cert.not_valid_after_utc - timedelta(days=70)
    with pytest.raises(RenewalWindowError, match="window opens at") as early:
        fresh_ca.renew(cert.serial_number, at=opens - timedelta(days=1))
    assert early.value.opens_at == opens
    assert opens.isoformat() in str(early.value)


def test_renewal_inside_the_window_supersedes_the_old_certificate(
    fresh_ca: CertificateAuthority,
) -> None:
    cert = fresh_ca.issue("citizen", CITIZEN, _ec(), at=T0)
    when = cert.not_valid_after_utc - timedelta(days=30)
    renewal = fresh_ca.renew(cert.serial_number, at=when)
    new = renewal.certificate
    assert new.subject == cert.subject
    assert new.serial_number != cert.serial_number
    assert new.not_valid_before_utc == when
    assert renewal.private_key is not None
    assert isinstance(renewal.private_key, ec.EllipticCurvePrivateKey)  # same type as before
    old = fresh_ca.registry.get(cert.serial_number)
    assert old.status is CertificateStatus.REVOKED
    assert old.reason is RevocationReason.SUPERSEDED
    assert old.superseded_by == new.serial_number
    assert fresh_ca.registry.get(new.serial_number).status is CertificateStatus.VALID


def test_renewal_after_expiry_is_refused(fresh_ca: CertificateAuthority) -> None:
    cert = fresh_ca.issue("citizen", CITIZEN, _ec(), at=T0)
    with pytest.raises(RenewalWindowError, match="expired"):
        fresh_ca.renew(cert.serial_number, at=cert.not_valid_after_utc + timedelta(days=1))


def test_seals_are_not_renewed(fresh_ca: CertificateAuthority) -> None:
    cert = fresh_ca.issue("eorgan-seal", SEAL, _ec(), months=12, at=T0)
    with pytest.raises(RenewalWindowError, match="not renewed"):
        fresh_ca.renew(cert.serial_number, at=cert.not_valid_after_utc - timedelta(days=10))


def test_revoked_certificate_cannot_be_renewed(fresh_ca: CertificateAuthority) -> None:
    cert = fresh_ca.issue("citizen", CITIZEN, _ec(), at=T0)
    fresh_ca.revoke(cert.serial_number, "keyCompromise", at=T0)
    with pytest.raises(IssuanceError, match="revoked"):
        fresh_ca.renew(cert.serial_number, at=cert.not_valid_after_utc - timedelta(days=10))


# -- generation codes for pending requests -------------------------------------------


def test_redeeming_a_code_issues_the_certificate_as_pkcs12(
    fresh_ca: CertificateAuthority,
) -> None:
    code = fresh_ca.new_code(PendingRequest("citizen", CITIZEN, key_spec=KeySpec.EC_P256), at=T0)
    assert fresh_ca.registry.certificates() == []  # nothing issued before redemption
    result = fresh_ca.redeem(code, "pin-2468", nif="12345678Z", at=T0 + timedelta(days=3))
    assert result.format == "pkcs12"
    key, cert, extra = pkcs12.load_key_and_certificates(result.data, b"pin-2468")
    assert cert == result.certificate
    assert key is not None
    assert key.public_key() == cert.public_key()
    assert fresh_ca.certificate in extra
    assert fresh_ca.registry.get(cert.serial_number).profile == "citizen"
    assert cert.not_valid_before_utc == T0 + timedelta(days=3)
    with pytest.raises(GenerationCodeError) as again:
        fresh_ca.redeem(code, "pin-2468", nif="12345678Z", at=T0 + timedelta(days=3))
    assert again.value.reason == "used"


def test_expired_pending_code_issues_nothing(fresh_ca: CertificateAuthority) -> None:
    code = fresh_ca.new_code(PendingRequest("citizen", CITIZEN), at=T0)
    with pytest.raises(GenerationCodeError) as expired:
        fresh_ca.redeem(code, "pin-2468", nif="12345678Z", at=T0 + timedelta(days=16))
    assert expired.value.reason == "expired"
    assert fresh_ca.registry.certificates() == []


def test_thrice_failed_pending_code_is_void(fresh_ca: CertificateAuthority) -> None:
    code = fresh_ca.new_code(PendingRequest("citizen", CITIZEN), at=T0)
    reasons = []
    for _ in range(3):
        with pytest.raises(GenerationCodeError) as err:
            fresh_ca.redeem("WrongCode1", "pin-2468", nif="12345678Z", at=T0)
        reasons.append(err.value.reason)
    assert reasons == ["wrong", "wrong", "exhausted"]
    with pytest.raises(GenerationCodeError) as void:
        fresh_ca.redeem(code, "pin-2468", nif="12345678Z", at=T0)
    assert void.value.reason == "exhausted"
    assert fresh_ca.registry.certificates() == []


def test_refused_issuance_gives_the_code_back(fresh_ca: CertificateAuthority) -> None:
    code = fresh_ca.new_code(PendingRequest("citizen", CITIZEN, key_spec=KeySpec.EC_P256), at=T0)
    with pytest.raises(ValidityError):  # the CA is not valid yet: nothing handed out
        fresh_ca.redeem(code, "pin-2468", nif="12345678Z", at=T0 - timedelta(days=1))
    result = fresh_ca.redeem(code, "pin-2468", nif="12345678Z", at=T0)
    assert result.certificate.subject == get_profile("citizen").subject_for(CITIZEN)


# -- concurrency through issue() -----------------------------------------------


def _issue_in_process(directory: str, count: int, barrier: Any, out: Any) -> None:
    ca = CertificateAuthority.open(directory)
    keys = [generate_key(KeySpec.EC_P256).public_key() for _ in range(count)]
    barrier.wait(timeout=60)
    out.put([ca.issue("citizen", CITIZEN, key, at=T0).serial_number for key in keys])


def test_two_processes_issue_at_once_with_distinct_serials(tmp_path: Path) -> None:
    make_ca(tmp_path / "pki")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    out = context.Queue()
    workers = [
        context.Process(target=_issue_in_process, args=(str(tmp_path / "pki"), 15, barrier, out))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    serials = [s for _ in workers for s in out.get(timeout=180)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert len(set(serials)) == 30
    registry = Registry.open(tmp_path / "pki" / "registry.sqlite")
    assert {r.serial for r in registry.certificates()} == set(serials)
