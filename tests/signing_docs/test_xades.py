"""XAdES signing: xmlsec1 as the independent oracle, plus structure checks."""

from __future__ import annotations

import base64
import pickle
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509 import ocsp

from qcertlib.errors import SigningError
from qcertlib.signing.options import (
    DigestAlgorithm,
    SignatureLevel,
    SignatureOptions,
    SignaturePolicy,
)
from qcertlib.signing.timestamps import Timestamper, verify_token
from qcertlib.signing.xades import (
    DS_NS,
    XADES_NS,
    XadesPackaging,
    finish_xades,
    parse_xml,
    prepare_xades,
    sign_xades,
)
from tests.conftest import require_tool
from tests.signing_docs.conftest import Pki

DOC = '<Facturae xmlns="urn:example"><Item>Factura 1: 121,00 € — Ñandú</Item></Facturae>'.encode()
BLOB = b"%PDF-1.7 not really a pdf, any bytes \x00\x01\x02"
LEVELS = [SignatureLevel.B_B, SignatureLevel.B_T, SignatureLevel.B_LT]


def xmlsec_verify(path: Path, trusted: Path, untrusted: Path | None) -> tuple[int, str]:
    tools = require_tool("xmlsec1")
    cmd = [tools["xmlsec1"], "--verify", "--trusted-pem", str(trusted)]
    if untrusted is not None:
        cmd += ["--untrusted-pem", str(untrusted)]
    proc = subprocess.run(
        [*cmd, path.name], capture_output=True, text=True, cwd=path.parent, check=False
    )
    return proc.returncode, proc.stderr


def _sign(
    pki: Pki,
    tsa: Timestamper,
    packaging: XadesPackaging,
    level: SignatureLevel,
    who: str = "signer",
) -> bytes:
    if packaging is XadesPackaging.DETACHED:
        return sign_xades(
            BLOB,
            pki.backend(who),
            SignatureOptions(level=level),
            packaging=packaging,
            reference_uri="document.bin",
            timestamper=tsa,
        )
    return sign_xades(
        DOC, pki.backend(who), SignatureOptions(level=level), packaging=packaging, timestamper=tsa
    )


@pytest.mark.oracle
@pytest.mark.parametrize("level", LEVELS, ids=lambda lv: lv.value)
@pytest.mark.parametrize("packaging", list(XadesPackaging), ids=lambda p: p.value)
def test_xmlsec1_verifies_all_references(
    packaging: XadesPackaging,
    level: SignatureLevel,
    pki: Pki,
    tsa: Timestamper,
    pki_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    signed = _sign(pki, tsa, packaging, level)
    (tmp_path / "document.bin").write_bytes(BLOB)
    out = tmp_path / "signed.xml"
    out.write_bytes(signed)
    rc, err = xmlsec_verify(out, pki_files["root"], pki_files["ca"])
    assert rc == 0, err
    assert "\nOK\n" in f"\n{err}"
    assert "SignedInfo References (ok/all): 3/3" in err  # data, SignedProperties, KeyInfo


@pytest.mark.oracle
@pytest.mark.parametrize("packaging", list(XadesPackaging), ids=lambda p: p.value)
def test_xmlsec1_verifies_ecdsa_signatures(
    packaging: XadesPackaging,
    pki: Pki,
    tsa: Timestamper,
    pki_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    signed = _sign(pki, tsa, packaging, SignatureLevel.B_B, who="ec_signer")
    (tmp_path / "document.bin").write_bytes(BLOB)
    out = tmp_path / "signed.xml"
    out.write_bytes(signed)
    rc, err = xmlsec_verify(out, pki_files["root"], pki_files["ca"])
    assert rc == 0, err


@pytest.mark.oracle
def test_xmlsec1_rejects_tampered_content(
    pki: Pki, tsa: Timestamper, pki_files: dict[str, Path], tmp_path: Path
) -> None:
    signed = _sign(pki, tsa, XadesPackaging.ENVELOPED, SignatureLevel.B_B)
    out = tmp_path / "tampered.xml"
    out.write_bytes(signed.replace(b"121,00", b"921,00"))
    rc, err = xmlsec_verify(out, pki_files["root"], pki_files["ca"])
    assert rc != 0
    assert "data and digest do not match" in err


@pytest.mark.oracle
def test_xmlsec1_rejects_a_changed_detached_document(
    pki: Pki, tsa: Timestamper, pki_files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "signed.xml"
    out.write_bytes(_sign(pki, tsa, XadesPackaging.DETACHED, SignatureLevel.B_B))
    (tmp_path / "document.bin").write_bytes(BLOB + b"!")
    rc, _ = xmlsec_verify(out, pki_files["root"], pki_files["ca"])
    assert rc != 0


@pytest.mark.oracle
def test_xmlsec1_rejects_an_untrusted_root(
    pki: Pki, tsa: Timestamper, pki_files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "signed.xml"
    out.write_bytes(_sign(pki, tsa, XadesPackaging.ENVELOPED, SignatureLevel.B_B))
    rc, _ = xmlsec_verify(out, pki_files["other_root"], None)
    assert rc != 0


def _usp(signed: bytes) -> object:
    root = parse_xml(signed)
    node = root.find(f".//{{{XADES_NS}}}UnsignedSignatureProperties")
    assert node is not None
    return node


def test_b_t_timestamps_the_canonical_signature_value(pki: Pki, tsa: Timestamper) -> None:
    from lxml import etree  # type: ignore[import-untyped]  # lxml ships no stubs

    signed = _sign(pki, tsa, XadesPackaging.ENVELOPED, SignatureLevel.B_T)
    root = parse_xml(signed)
    value = root.find(f".//{{{DS_NS}}}SignatureValue")
    token_b64 = root.find(
        f".//{{{XADES_NS}}}SignatureTimeStamp/{{{XADES_NS}}}EncapsulatedTimeStamp"
    )
    imprint = DigestAlgorithm.SHA256.digest(etree.tostring(value, method="c14n"))
    info = verify_token(
        base64.b64decode(token_b64.text),
        imprint,
        DigestAlgorithm.SHA256,
        trust_roots=[pki.root],
        intermediates=[pki.ca],
    )
    assert info.tsa_certificate == pki.tsa


def test_b_lt_embeds_certificates_and_the_verified_ocsp_answers(pki: Pki, tsa: Timestamper) -> None:
    signed = _sign(pki, tsa, XadesPackaging.ENVELOPED, SignatureLevel.B_LT)
    root = parse_xml(signed)
    certs = {
        x509.load_der_x509_certificate(base64.b64decode(n.text))
        for n in root.iter(f"{{{XADES_NS}}}EncapsulatedX509Certificate")
    }
    assert {pki.signer, pki.ca, pki.tsa} <= certs
    answers = [
        ocsp.load_der_ocsp_response(base64.b64decode(n.text))
        for n in root.iter(f"{{{XADES_NS}}}EncapsulatedOCSPValue")
    ]
    status = {a.serial_number: a.certificate_status for a in answers}
    assert status[pki.signer.serial_number] is ocsp.OCSPCertStatus.GOOD
    crls = [
        x509.load_der_x509_crl(base64.b64decode(n.text))
        for n in root.iter(f"{{{XADES_NS}}}EncapsulatedCRLValue")
    ]
    # the TSA by OCSP or by the issuing CA's CRL; the issuing CA by the root's CRL
    assert pki.tsa.serial_number in status or any(c.issuer == pki.ca.subject for c in crls)
    assert any(c.issuer == pki.root.subject for c in crls)


def test_b_lta_is_refused_for_xades(pki: Pki) -> None:
    with pytest.raises(SigningError, match="B-LTA"):
        sign_xades(DOC, pki.backend(), SignatureOptions(level=SignatureLevel.B_LTA))


def test_epes_policy_as_facturae_requires(pki: Pki) -> None:
    uri = "http://www.facturae.es/politica_de_firma_formato_facturae/politica_de_firma_formato_facturae_v3_1.pdf"
    policy = SignaturePolicy(
        oid=x509.ObjectIdentifier("2.16.724.1.3.1.1.2.1.9"),
        uri=uri,
        digest=DigestAlgorithm.SHA256.digest(b"the policy document"),
    )
    signed = sign_xades(
        DOC,
        pki.backend(),
        SignatureOptions(policy=policy),
        policy_description="Política de Firma FacturaE v3.1",
    )
    root = parse_xml(signed)
    spid = root.find(f".//{{{XADES_NS}}}SignaturePolicyId")
    assert spid.findtext(f"{{{XADES_NS}}}SigPolicyId/{{{XADES_NS}}}Identifier") == uri
    assert spid.findtext(f".//{{{XADES_NS}}}Description") == "Política de Firma FacturaE v3.1"
    digest = spid.findtext(f"{{{XADES_NS}}}SigPolicyHash/{{{DS_NS}}}DigestValue")
    assert base64.b64decode(digest) == policy.digest
    assert spid.findtext(f".//{{{XADES_NS}}}SPURI") == uri


def test_epes_policy_without_uri_uses_the_oid_as_urn(pki: Pki) -> None:
    policy = SignaturePolicy(
        oid=x509.ObjectIdentifier("2.16.724.1.3.1.1.2.1.9"),
        uri=None,
        digest=DigestAlgorithm.SHA256.digest(b"p"),
    )
    root = parse_xml(sign_xades(DOC, pki.backend(), SignatureOptions(policy=policy)))
    ident = root.find(f".//{{{XADES_NS}}}Identifier")
    assert ident.text == "urn:oid:2.16.724.1.3.1.1.2.1.9"
    assert ident.get("Qualifier") == "OIDAsURN"


def test_signing_time_is_the_requested_time(pki: Pki) -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    root = parse_xml(sign_xades(DOC, pki.backend(), SignatureOptions(signing_time=when)))
    assert root.findtext(f".//{{{XADES_NS}}}SigningTime") == "2026-01-02T03:04:05Z"


def test_three_stages_are_picklable(pki: Pki) -> None:
    options = SignatureOptions()
    prepared = prepare_xades(DOC, pki.signer, [pki.ca], options)
    prepared = pickle.loads(pickle.dumps(prepared))  # noqa: S301 - our own value
    (sig,) = pki.backend().sign_digests([prepared.digest], prepared.algorithm)
    assert b"SignatureValue" in finish_xades(prepared, sig, options)


def test_finish_refuses_a_signature_from_another_key(pki: Pki) -> None:
    options = SignatureOptions()
    prepared = prepare_xades(DOC, pki.signer, [pki.ca], options)
    (wrong,) = pki.backend("ec_signer").sign_digests([prepared.digest], prepared.algorithm)
    with pytest.raises(SigningError, match="does not verify"):
        finish_xades(prepared, wrong, options)


def test_detached_needs_a_reference_uri(pki: Pki) -> None:
    with pytest.raises(ValueError, match="reference_uri"):
        prepare_xades(BLOB, pki.signer, [], SignatureOptions(), packaging=XadesPackaging.DETACHED)


# ---------------------------------------------------------------- hostile / bad input

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<r>&xxe;</r>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<r>&b;</r>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">
<r/>"""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (XXE, "refused"),
        (LAUGHS, "refused"),
        (EXTERNAL_DTD, "refused"),
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<r><unclosed></r>", "well-formed"),
        (b"not xml at all", "well-formed"),
    ],
    ids=[
        "external-entity",
        "entity-expansion",
        "external-dtd",
        "empty",
        "blank",
        "malformed",
        "text",
    ],
)
def test_hostile_or_bad_xml_is_a_signing_error(data: bytes, message: str, pki: Pki) -> None:
    with pytest.raises(SigningError, match=message):
        sign_xades(data, pki.backend(), SignatureOptions())


def test_empty_detached_document_is_a_signing_error(pki: Pki) -> None:
    with pytest.raises(SigningError, match="empty"):
        sign_xades(
            b"",
            pki.backend(),
            SignatureOptions(),
            packaging=XadesPackaging.DETACHED,
            reference_uri="x",
        )


def test_b_t_with_only_a_tsa_url_uses_our_timestamper(pki: Pki) -> None:
    options = SignatureOptions(level=SignatureLevel.B_T, tsa_url=f"{pki.url}/tsa")
    root = parse_xml(sign_xades(DOC, pki.backend(), options))
    assert root.find(f".//{{{XADES_NS}}}EncapsulatedTimeStamp") is not None


def test_b_t_without_a_tsa_is_a_typed_error(pki: Pki) -> None:
    with pytest.raises(SigningError, match="TSA"):
        sign_xades(DOC, pki.backend(), SignatureOptions(level=SignatureLevel.B_T))


def test_finish_refuses_a_foreign_prepared_signature(pki: Pki) -> None:
    import dataclasses

    options = SignatureOptions()
    prepared = prepare_xades(DOC, pki.signer, [pki.ca], options)
    with pytest.raises(ValueError, match="not a XAdES"):
        finish_xades(dataclasses.replace(prepared, format="pades"), b"", options)


def test_xml_that_cannot_be_canonicalised_is_a_signing_error(pki: Pki) -> None:
    with pytest.raises(SigningError, match="cannot prepare"):
        sign_xades(b"<a xmlns='relative'><b/></a>", pki.backend(), SignatureOptions())


def test_rsa_pss_xades_verifies(pki: Pki) -> None:
    """xmlsec1 1.2.37 has no RSA-PSS (sha256-rsa-MGF1): our validator is the check here."""
    from qcertlib.validation import ValidationPolicy, validate_xml

    signed = sign_xades(DOC, pki.backend("pss"), SignatureOptions())
    assert b"sha256-rsa-MGF1" in signed
    policy = ValidationPolicy(trust_roots=(pki.root,), fetch_revocation=True)
    assert validate_xml(signed, policy).passed


@pytest.mark.oracle
def test_facturae_style_v1_signing_certificate_and_role(
    pki: Pki, tsa: Timestamper, pki_files: dict[str, Path], tmp_path: Path
) -> None:
    from qcertlib.validation import ValidationPolicy, validate_xml

    policy = SignaturePolicy(
        oid=x509.ObjectIdentifier("2.16.724.1.3.1.1.2.1.9"),
        uri="http://www.facturae.es/politica_de_firma_formato_facturae/politica_de_firma_formato_facturae_v3_1.pdf",
        digest=DigestAlgorithm.SHA256.digest(b"the policy document"),
    )
    signed = sign_xades(
        DOC,
        pki.backend(),
        SignatureOptions(level=SignatureLevel.B_T, policy=policy),
        claimed_role="emisor",
        signing_certificate_v1=True,
        timestamper=tsa,
    )
    root = parse_xml(signed)
    assert root.find(f".//{{{XADES_NS}}}SigningCertificateV2") is None
    serial = root.findtext(f".//{{{XADES_NS}}}IssuerSerial/{{{DS_NS}}}X509SerialNumber")
    assert serial == str(pki.signer.serial_number)
    assert root.findtext(f".//{{{XADES_NS}}}ClaimedRole") == "emisor"
    out = tmp_path / "factura.xsig"
    out.write_bytes(signed)
    rc, err = xmlsec_verify(out, pki_files["root"], pki_files["ca"])
    assert rc == 0, err
    report = validate_xml(signed, ValidationPolicy(trust_roots=(pki.root,), fetch_revocation=True))
    assert report.passed, report.to_text()  # includes the XAdES schema check
    assert report.signatures[0].level is SignatureLevel.B_T
