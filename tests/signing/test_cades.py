"""CAdES: openssl cms / openssl ts as independent verifiers, and our own refusals."""

from __future__ import annotations

import hashlib
import pickle
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509

from qcertlib.errors import SigningError
from qcertlib.signing import DigestAlgorithm, SignatureLevel, SignatureOptions, SignaturePolicy
from qcertlib.signing.backends import SignatureMechanism, SoftwareKeyBackend
from qcertlib.signing.cades import RevocationData, finish_cades, prepare_cades, sign_cades
from qcertlib.signing.timestamps import TsaResponder
from tests.conftest import require_tool
from tests.signing._pki import Pki, ocsp_response

DATA = b"%PDF-1.7 not really, just bytes \x00\x01\x02\r\n" * 50
POLICY = SignaturePolicy(
    x509.ObjectIdentifier("2.16.724.1.3.1.1.2.1.9"),
    "https://sede.060.gob.es/politica_de_firma_anexo_1.pdf",
    hashlib.sha256(b"policy document").digest(),
)


@pytest.fixture(scope="module")
def tsa(pki: Pki) -> TsaResponder:
    return TsaResponder(
        pki.tsa_key, pki.tsa_cert, pki.chain, policy=x509.ObjectIdentifier("1.3.6.1.4.1.99999.2")
    )


def _backend(pki: Pki, kind: str) -> SoftwareKeyBackend:
    if kind == "rsa":
        return SoftwareKeyBackend(pki.rsa_key, pki.rsa_cert, pki.chain)
    if kind == "rsa-pss":
        return SoftwareKeyBackend(
            pki.rsa_key, pki.rsa_cert, pki.chain, mechanism=SignatureMechanism.RSA_PSS
        )
    return SoftwareKeyBackend(pki.ec_key, pki.ec_cert, pki.chain)


def _cms_verify(tmp: Path, p7s: bytes, content: bytes = DATA) -> subprocess.CompletedProcess[str]:
    openssl = require_tool("openssl")["openssl"]
    (tmp / "x.p7s").write_bytes(p7s)
    (tmp / "data").write_bytes(content)
    args = [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", "x.p7s"]
    args += ["-content", "data", "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null"]
    return subprocess.run(args, cwd=tmp, capture_output=True, text=True, check=False)


def _print(tmp: Path, p7s: bytes) -> str:
    openssl = require_tool("openssl")["openssl"]
    (tmp / "p.p7s").write_bytes(p7s)
    args = [openssl, "cms", "-cmsout", "-print", "-inform", "DER", "-in", "p.p7s"]
    return subprocess.run(args, cwd=tmp, capture_output=True, text=True, check=True).stdout


@pytest.mark.oracle
@pytest.mark.parametrize("kind", ["rsa", "ec", "rsa-pss"])
@pytest.mark.parametrize("detached", [True, False], ids=["detached", "attached"])
@pytest.mark.parametrize("level", [SignatureLevel.B_B, SignatureLevel.B_T, SignatureLevel.B_LT])
def test_openssl_cms_verifies(
    pki: Pki,
    tsa: TsaResponder,
    tmp_path: Path,
    kind: str,
    detached: bool,
    level: SignatureLevel,
) -> None:
    pki.write(tmp_path)
    p7s = sign_cades(
        DATA,
        _backend(pki, kind),
        SignatureOptions(level=level),
        detached=detached,
        timestamper=tsa,
        revocation=[RevocationData(crls=pki.crls_der)],
    )
    out = _cms_verify(tmp_path, p7s)
    assert out.returncode == 0, out.stderr
    assert "CMS Verification successful" in out.stderr
    info = cms.ContentInfo.load(p7s)["content"]
    has_content = info["encap_content_info"]["content"].native is not None
    assert has_content is not detached


@pytest.mark.oracle
def test_openssl_rejects_tampered_content(pki: Pki, tmp_path: Path) -> None:
    pki.write(tmp_path)
    p7s = sign_cades(DATA, _backend(pki, "ec"))
    out = _cms_verify(tmp_path, p7s, DATA + b"x")
    assert out.returncode == 4
    assert "CMS Verification failure" in out.stderr


@pytest.mark.oracle
def test_b_b_attributes_and_epes(pki: Pki, tmp_path: Path) -> None:
    p7s = sign_cades(DATA, _backend(pki, "rsa"), SignatureOptions(policy=POLICY))
    printed = _print(tmp_path, p7s)
    for name in ("contentType", "signingTime", "messageDigest", "signingCertificateV2"):
        assert f"id-smime-aa-{name}" in printed or f"object: {name}" in printed, name
    assert "id-smime-aa-ets-sigPolicyId" in printed
    assert POLICY.uri is not None
    assert POLICY.uri in printed
    assert "id-smime-aa-timeStampToken" not in printed


@pytest.mark.oracle
def test_openssl_ts_verifies_the_signature_timestamp(
    pki: Pki, tsa: TsaResponder, tmp_path: Path
) -> None:
    openssl = require_tool("openssl")["openssl"]
    pki.write(tmp_path)
    p7s = sign_cades(
        DATA, _backend(pki, "ec"), SignatureOptions(level=SignatureLevel.B_T), timestamper=tsa
    )
    si = cms.ContentInfo.load(p7s)["content"]["signer_infos"][0]
    (attr,) = [a for a in si["unsigned_attrs"] if a["type"].native == "signature_time_stamp_token"]
    (tmp_path / "token.tst").write_bytes(attr["values"][0].dump())
    imprint = hashlib.sha256(si["signature"].native).hexdigest()
    args = [openssl, "ts", "-verify", "-digest", imprint, "-token_in", "-in", "token.tst"]
    args += ["-CAfile", "root.pem", "-untrusted", "chain.pem"]
    out = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "Verification: OK" in out.stdout
    wrong = hashlib.sha256(b"other").hexdigest()
    args[3] = wrong
    bad = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert bad.returncode != 0


@pytest.mark.oracle
def test_b_lt_with_ocsp_as_other_revocation_info(
    pki: Pki, tsa: TsaResponder, tmp_path: Path
) -> None:
    pki.write(tmp_path)
    revocation = [
        RevocationData(ocsp_response=ocsp_response(pki, pki.ec_cert)),
        RevocationData(ocsp_response=ocsp_response(pki, pki.tsa_cert)),
        RevocationData(crls=pki.crls_der[1:]),
    ]
    p7s = sign_cades(
        DATA,
        _backend(pki, "ec"),
        SignatureOptions(level=SignatureLevel.B_LT),
        timestamper=tsa,
        revocation=revocation,
    )
    sd = cms.ContentInfo.load(p7s)["content"]
    assert sd["version"].native == "v5"  # RFC 5652: "other" revocation info
    kinds = [c.name for c in sd["crls"]]
    assert kinds.count("other") == 2
    assert kinds.count("crl") == 1
    printed = _print(tmp_path, p7s)
    assert "1.3.6.1.5.5.7.16.2" in printed
    out = _cms_verify(tmp_path, p7s)
    assert out.returncode == 0, out.stderr


def test_b_lt_carries_signer_and_tsa_chains(pki: Pki, tsa: TsaResponder) -> None:
    p7s = sign_cades(
        DATA,
        _backend(pki, "rsa"),
        SignatureOptions(level=SignatureLevel.B_LT),
        timestamper=tsa,
        revocation=[RevocationData(crls=pki.crls_der)],
    )
    sd = cms.ContentInfo.load(p7s)["content"]
    serials = {c.chosen.serial_number for c in sd["certificates"]}
    assert serials == {
        pki.rsa_cert.serial_number,
        pki.ca.serial_number,
        pki.root.serial_number,
        pki.tsa_cert.serial_number,
    }
    assert len(sd["crls"]) == 2


def test_three_stages_with_a_pickled_prepared_signature(pki: Pki, tmp_path: Path) -> None:
    doc = tmp_path / "doc.bin"
    doc.write_bytes(DATA)
    backend = _backend(pki, "ec")
    prepared = prepare_cades(doc, backend.certificate, backend.chain, SignatureOptions())
    prepared = pickle.loads(pickle.dumps(prepared))  # noqa: S301 - our own bytes
    (sig,) = backend.sign_digests([prepared.digest], prepared.algorithm)
    p7s = finish_cades(prepared, sig)
    si = cms.ContentInfo.load(p7s)["content"]["signer_infos"][0]
    assert si["signature"].native == sig


def test_signature_from_the_wrong_key_is_refused(pki: Pki) -> None:
    prepared = prepare_cades(DATA, pki.ec_cert, pki.chain)
    (sig,) = _backend(pki, "rsa").sign_digests([prepared.digest], DigestAlgorithm.SHA256)
    with pytest.raises(SigningError, match="does not verify"):
        finish_cades(prepared, sig)


def test_b_t_needs_a_tsa(pki: Pki) -> None:
    with pytest.raises(SigningError, match="needs a TSA"):
        sign_cades(DATA, _backend(pki, "ec"), SignatureOptions(level=SignatureLevel.B_T))


def test_b_lta_is_refused_clearly(pki: Pki) -> None:
    with pytest.raises(SigningError, match="B-LTA"):
        sign_cades(DATA, _backend(pki, "ec"), SignatureOptions(level=SignatureLevel.B_LTA))


def test_unreadable_document_is_typed(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="cannot read"):
        sign_cades(tmp_path / "missing.bin", _backend(pki, "ec"))


def test_attached_content_is_spliced_and_split_without_asn1crypto(pki: Pki) -> None:
    from qcertlib.signing import _cms

    p7s = sign_cades(DATA, _backend(pki, "ec"), detached=False)
    detached, content = _cms.split_content(p7s)
    assert content is not None
    assert bytes(content) == DATA
    info = cms.ContentInfo.load(detached)["content"]
    assert info["encap_content_info"]["content"].native is None
    assert cms.ContentInfo.load(p7s)["content"]["encap_content_info"]["content"].native == DATA
    assert _cms.split_content(detached) == (detached, None)
