"""PAdES signing: pdfsig (poppler + NSS) and qpdf as independent oracles."""

from __future__ import annotations

import importlib
import io
import pickle
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from qcertlib.errors import Pkcs12PasswordError, SigningError
from qcertlib.signing.backends import Pkcs12Backend
from qcertlib.signing.options import (
    DigestAlgorithm,
    SignatureLevel,
    SignatureOptions,
    SignaturePolicy,
)
from qcertlib.signing.pades import (
    VisibleSignature,
    finish_pades,
    finish_pades_file,
    prepare_pades,
    sign_pades,
    sign_pades_file,
)
from qcertlib.signing.timestamps import Timestamper
from qcertlib.validation import ValidationPolicy, validate_pdf
from tests.conftest import require_tool
from tests.signing_docs.conftest import Pki, make_pdf

LEVELS = [SignatureLevel.B_B, SignatureLevel.B_T, SignatureLevel.B_LT, SignatureLevel.B_LTA]


def pdfsig(path: Path, nssdb: str) -> list[dict[str, str]]:
    """Run pdfsig and parse its per-signature blocks (pdfsig exits 0 whatever the verdict)."""
    tools = require_tool("pdfsig")
    proc = subprocess.run(
        [tools["pdfsig"], "-nssdir", nssdb, str(path)], capture_output=True, text=True, check=False
    )
    sigs: list[dict[str, str]] = []
    for line in proc.stdout.splitlines():
        if line.startswith("Signature #"):
            sigs.append({})
        elif line.startswith("  - ") and sigs:
            key, _, value = line[4:].partition(":")
            sigs[-1][key.strip()] = value.strip()
            if ":" not in line[4:]:
                sigs[-1][line[4:].strip()] = ""
    return sigs


def qpdf_check(path: Path) -> subprocess.CompletedProcess[str]:
    tools = require_tool("qpdf")
    return subprocess.run(
        [tools["qpdf"], "--check", str(path)], capture_output=True, text=True, check=False
    )


def assert_valid_trusted(sig: dict[str, str]) -> None:
    assert sig.get("Signature Validation") == "Signature is Valid.", sig
    assert sig.get("Certificate Validation") == "Certificate is Trusted.", sig


@pytest.mark.oracle
@pytest.mark.parametrize("level", LEVELS, ids=lambda lv: lv.value)
def test_every_level_is_valid_and_trusted_for_pdfsig_and_clean_for_qpdf(
    level: SignatureLevel, pki: Pki, tsa: Timestamper, nssdb: str, tmp_path: Path
) -> None:
    out = tmp_path / "signed.pdf"
    out.write_bytes(
        sign_pades(make_pdf(), pki.backend(), SignatureOptions(level=level), timestamper=tsa)
    )
    sigs = pdfsig(out, nssdb)
    assert_valid_trusted(sigs[0])
    assert sigs[0]["Signature Type"] == "ETSI.CAdES.detached"
    if level in (SignatureLevel.B_B, SignatureLevel.B_T):
        assert "Total document signed" in sigs[0]
    elif level is SignatureLevel.B_LT:  # the DSS is a later incremental update
        assert "Not total document signed" in sigs[0]
    else:  # the document timestamp covers the signature and the DSS
        assert len(sigs) == 2
        assert "Total document signed" in sigs[1]
    check = qpdf_check(out)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No syntax or stream encoding errors found" in check.stdout


@pytest.mark.oracle
def test_second_signature_leaves_the_first_valid(
    pki: Pki, tsa: Timestamper, nssdb: str, tmp_path: Path
) -> None:
    options = SignatureOptions(level=SignatureLevel.B_T)
    once = sign_pades(make_pdf(), pki.backend(), options, timestamper=tsa)
    twice = sign_pades(once, pki.backend("ec_signer"), options, timestamper=tsa)
    assert twice.startswith(once)  # incremental update: the first revision is untouched
    out = tmp_path / "twice.pdf"
    out.write_bytes(twice)
    sigs = pdfsig(out, nssdb)
    assert len(sigs) == 2
    assert_valid_trusted(sigs[0])
    assert_valid_trusted(sigs[1])
    assert sigs[0]["Signature Field Name"] == "Signature1"
    assert sigs[1]["Signature Field Name"] == "Signature2"
    assert "Total document signed" in sigs[1]
    assert qpdf_check(out).returncode == 0


@pytest.mark.oracle
def test_tampered_pdf_is_a_digest_mismatch_for_pdfsig(pki: Pki, nssdb: str, tmp_path: Path) -> None:
    signed = sign_pades(make_pdf("Hola qcertlib"), pki.backend(), SignatureOptions())
    out = tmp_path / "tampered.pdf"
    out.write_bytes(signed.replace(b"Hola qcertlib", b"Hola qcertlyb"))
    assert pdfsig(out, nssdb)[0]["Signature Validation"] == "Digest Mismatch."


@pytest.mark.oracle
def test_streaming_file_mode_signs_a_file_into_another(
    pki: Pki, tsa: Timestamper, nssdb: str, tmp_path: Path
) -> None:
    src = tmp_path / "in.pdf"
    src.write_bytes(make_pdf(big_stream=300_000))
    out = sign_pades_file(
        src,
        tmp_path / "out.pdf",
        pki.backend(),
        SignatureOptions(level=SignatureLevel.B_LTA),
        timestamper=tsa,
    )
    assert out.read_bytes().startswith(src.read_bytes())
    assert_valid_trusted(pdfsig(out, nssdb)[0])
    assert qpdf_check(out).returncode == 0


def _hanko(module: str) -> Any:
    return importlib.import_module(module)


def _reader(data: bytes) -> Any:
    return _hanko("pyhanko.pdf_utils.reader").PdfFileReader(io.BytesIO(data))


def test_visible_signature_shows_holder_nif_and_time(pki: Pki) -> None:
    signed = sign_pades(
        make_pdf(), pki.backend(), SignatureOptions(), visible=VisibleSignature(page=0)
    )
    reader = _reader(signed)
    field = reader.embedded_signatures[0].sig_field
    rect = [float(v) for v in field["/Rect"]]
    assert rect == [40.0, 40.0, 300.0, 110.0]
    appearance = field["/AP"]["/N"].data
    assert b"00000000T" in appearance
    assert b"JORDI PUIG FERRER" in appearance
    assert b"(Fecha\\072 " in appearance


def test_invisible_signature_has_an_empty_rectangle(pki: Pki) -> None:
    field = _reader(sign_pades(make_pdf(), pki.backend(), SignatureOptions()))
    rect = [float(v) for v in field.embedded_signatures[0].sig_field["/Rect"]]
    assert rect == [0.0, 0.0, 0.0, 0.0]


def test_b_lt_dss_holds_the_ocsp_response_our_client_verified(pki: Pki, tsa: Timestamper) -> None:
    signed = sign_pades(
        make_pdf(), pki.backend(), SignatureOptions(level=SignatureLevel.B_LT), timestamper=tsa
    )
    dss = _hanko("pyhanko.sign.validation").DocumentSecurityStore.read_dss(_reader(signed))
    from cryptography.x509 import ocsp

    responses = [ocsp.load_der_ocsp_response(o.get_object().data) for o in dss.ocsps]
    assert responses, "no OCSP response in the DSS"
    statuses = {r.serial_number: r.certificate_status for r in responses}
    assert statuses[pki.signer.serial_number] is ocsp.OCSPCertStatus.GOOD
    crls = [x509.load_der_x509_crl(ref.get_object().data) for ref in dss.crls]
    covered_tsa = pki.tsa.serial_number in statuses or any(
        crl.issuer == pki.ca.subject for crl in crls
    )
    assert covered_tsa  # the TSA's status: by OCSP or by the issuing CA's CRL
    assert any(crl.issuer == pki.root.subject for crl in crls)  # the issuing CA's status
    certs = {x509.load_der_x509_certificate(c.dump()) for c in dss.load_certs()}
    assert {pki.signer, pki.ca, pki.tsa} <= certs


def test_b_lt_refuses_a_revoked_signer(pki: Pki, tsa: Timestamper) -> None:
    with pytest.raises(SigningError, match="revoked"):
        sign_pades(
            make_pdf(),
            pki.backend("revoked"),
            SignatureOptions(level=SignatureLevel.B_LT),
            timestamper=tsa,
        )


def test_b_t_without_tsa_is_a_typed_error(pki: Pki) -> None:
    with pytest.raises(SigningError, match="TSA"):
        sign_pades(make_pdf(), pki.backend(), SignatureOptions(level=SignatureLevel.B_T))


def test_epes_policy_is_a_signed_attribute(pki: Pki) -> None:
    policy = SignaturePolicy(
        oid=x509.ObjectIdentifier("2.16.724.1.3.1.1.2.1.9"),
        uri="https://sede.administracion.gob.es/politica_de_firma_anexo_1.pdf",
        digest=DigestAlgorithm.SHA256.digest(b"policy document"),
    )
    signed = sign_pades(make_pdf(), pki.backend(), SignatureOptions(policy=policy))
    sig = _reader(signed).embedded_signatures[0]
    attrs = {a["type"].native: a for a in sig.signer_info["signed_attrs"]}
    spid = attrs["signature_policy_identifier"]["values"][0].chosen
    assert spid["sig_policy_id"].dotted == "2.16.724.1.3.1.1.2.1.9"
    assert spid["sig_policy_hash"]["digest"].native == policy.digest
    assert "signing_time" not in attrs  # PAdES: the time is in /M, not in the CMS


def test_three_stages_are_picklable_and_need_no_key(pki: Pki) -> None:
    options = SignatureOptions()
    prepared = prepare_pades(make_pdf(), pki.signer, [pki.ca], options)
    prepared = pickle.loads(pickle.dumps(prepared))  # noqa: S301 - our own value
    assert prepared.format == "pades"
    assert len(prepared.digest) == 32
    (signature,) = pki.backend().sign_digests([prepared.digest], prepared.algorithm)
    signed = finish_pades(prepared, signature, options)
    assert _reader(signed).embedded_signatures[0].field_name == "Signature1"


def test_finish_refuses_a_signature_from_another_key(pki: Pki) -> None:
    options = SignatureOptions()
    prepared = prepare_pades(make_pdf(), pki.signer, [pki.ca], options)
    (wrong,) = pki.backend("ec_signer").sign_digests([prepared.digest], prepared.algorithm)
    with pytest.raises(SigningError, match="does not verify"):
        finish_pades(prepared, wrong, options)


def test_finish_in_the_wrong_mode_is_a_usage_error(pki: Pki, tmp_path: Path) -> None:
    options = SignatureOptions()
    in_memory = prepare_pades(make_pdf(), pki.signer, [pki.ca], options)
    with pytest.raises(ValueError, match=r"finish_pades$"):
        finish_pades_file(in_memory, b"", options)
    in_file = prepare_pades(make_pdf(), pki.signer, [pki.ca], options, output=tmp_path / "o.pdf")
    with pytest.raises(ValueError, match="finish_pades_file"):
        finish_pades(in_file, b"", options)


def test_too_small_reservation_is_a_typed_error(pki: Pki) -> None:
    options = SignatureOptions()
    prepared = prepare_pades(make_pdf(), pki.signer, [pki.ca], options, bytes_reserved=256)
    (signature,) = pki.backend().sign_digests([prepared.digest], prepared.algorithm)
    with pytest.raises(SigningError, match="does not fit"):
        finish_pades(prepared, signature, options)


# ---------------------------------------------------------------- bad input


def _broken_xref() -> bytes:
    pdf = make_pdf()
    cut = pdf.rfind(b"startxref")
    return pdf[:cut] + b"startxref\n99999\n%%EOF\n"


def _encrypted() -> bytes:
    writer_mod = _hanko("pyhanko.pdf_utils.writer")
    w = writer_mod.copy_into_new_writer(_reader(make_pdf()))
    w.encrypt("owner-secret", "user-secret")
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<html>not a pdf</html>", "not a PDF"),
        (_broken_xref(), "damaged"),
        (b"%PDF-1.7\n" + b"garbage " * 50, "damaged"),
    ],
    ids=["empty", "not-pdf", "broken-xref", "garbage"],
)
def test_bad_input_is_a_signing_error(data: bytes, message: str, pki: Pki) -> None:
    with pytest.raises(SigningError, match=message):
        sign_pades(data, pki.backend(), SignatureOptions())


def test_encrypted_pdf_is_refused_clearly(pki: Pki) -> None:
    with pytest.raises(SigningError, match="encrypted"):
        sign_pades(_encrypted(), pki.backend(), SignatureOptions())


def test_missing_file_is_a_signing_error_and_leaves_no_output(pki: Pki, tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    with pytest.raises(SigningError, match="cannot open"):
        sign_pades_file(tmp_path / "missing.pdf", out, pki.backend(), SignatureOptions())
    assert not out.exists()


def test_failed_file_signing_removes_the_partial_output(pki: Pki, tmp_path: Path) -> None:
    src = tmp_path / "in.pdf"
    src.write_bytes(make_pdf())
    out = tmp_path / "out.pdf"
    with pytest.raises(SigningError, match="TSA"):
        sign_pades_file(src, out, pki.backend(), SignatureOptions(level=SignatureLevel.B_T))
    assert not out.exists()


def test_wrong_pin_is_a_typed_error(pki: Pki) -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    p12 = pkcs12.serialize_key_and_certificates(
        b"signer", pki.signer_key, pki.signer, [pki.ca], BestAvailableEncryption(b"right-pin")
    )
    with pytest.raises(Pkcs12PasswordError):
        Pkcs12Backend.from_bytes(p12, "wrong-pin")
    backend = Pkcs12Backend.from_bytes(p12, "right-pin")
    assert sign_pades(make_pdf(), backend, SignatureOptions()).startswith(b"%PDF")


def test_b_t_with_only_a_tsa_url_uses_our_timestamper(pki: Pki) -> None:
    options = SignatureOptions(level=SignatureLevel.B_T, tsa_url=f"{pki.url}/tsa")
    signed = sign_pades(make_pdf(), pki.backend(), options)
    sig = _reader(signed).embedded_signatures[0]
    unsigned = {a["type"].native for a in sig.signer_info["unsigned_attrs"]}
    assert "signature_time_stamp_token" in unsigned


def test_finish_refuses_foreign_or_damaged_state(pki: Pki) -> None:
    import dataclasses

    options = SignatureOptions()
    prepared = prepare_pades(make_pdf(), pki.signer, [pki.ca], options)
    with pytest.raises(ValueError, match="not a PAdES"):
        finish_pades(dataclasses.replace(prepared, format="xades"), b"", options)
    with pytest.raises(ValueError, match="prepared-signature state"):
        finish_pades(dataclasses.replace(prepared, state=b"garbage"), b"", options)
    with pytest.raises(ValueError, match="truncated"):
        finish_pades(dataclasses.replace(prepared, state=prepared.state[:-5]), b"", options)


def test_output_in_a_missing_folder_is_a_signing_error(pki: Pki, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "prepared.pdf"
    with pytest.raises(SigningError, match="cannot write"):
        prepare_pades(make_pdf(), pki.signer, [pki.ca], SignatureOptions(), output=out)


def test_visible_box_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="x2 > x1"):
        VisibleSignature(box=(300, 40, 40, 110))


def test_holder_display_falls_back_to_the_subject(pki: Pki) -> None:
    from qcertlib.signing._docs_common import holder_display

    assert holder_display(pki.signer) == ("JORDI PUIG FERRER", "00000000T")
    name, nif = holder_display(pki.tsa)  # no person, no NIF: the entity or the CN
    assert name in ("qcertlib Test PKI", "qcertlib Test PKI TSA")
    assert nif is None


def _certified_no_changes(pki: Pki) -> bytes:
    """A PDF certified by pyHanko with DocMDP "no changes allowed"."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization

    signers: Any = _hanko("pyhanko.sign.signers")
    fields: Any = _hanko("pyhanko.sign.fields")
    inc: Any = _hanko("pyhanko.pdf_utils.incremental_writer")
    key_der = pki.signer_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(
            pki.signer.public_bytes(serialization.Encoding.DER)
        ),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=None,
    )
    meta = signers.PdfSignatureMetadata(
        field_name="Author",
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    out = io.BytesIO()
    signers.sign_pdf(inc.IncrementalPdfFileWriter(io.BytesIO(make_pdf())), meta, signer, output=out)
    return out.getvalue()


def test_certified_pdf_allowing_no_changes_is_refused(pki: Pki) -> None:
    with pytest.raises(SigningError, match="cannot sign this PDF"):
        sign_pades(_certified_no_changes(pki), pki.backend(), SignatureOptions())


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("who", "xref_stream", "page"),
    [("pss", False, 0), ("signer", True, -1), ("ec_signer", True, 0)],
    ids=["rsa-pss", "xref-stream-last-page", "ecdsa-xref-stream"],
)
def test_mechanisms_and_pdf_flavours_are_valid_for_pdfsig(
    who: str, xref_stream: bool, page: int, pki: Pki, nssdb: str, tmp_path: Path
) -> None:
    pdf = make_pdf(pages=3, xref_stream=xref_stream)
    out = tmp_path / "signed.pdf"
    out.write_bytes(
        sign_pades(pdf, pki.backend(who), SignatureOptions(), visible=VisibleSignature(page=page))
    )
    (sig,) = pdfsig(out, nssdb)
    assert_valid_trusted(sig)
    assert qpdf_check(out).returncode == 0
    assert validate_pdf(
        out.read_bytes(), ValidationPolicy(trust_roots=(pki.root,), fetch_revocation=True)
    ).passed
