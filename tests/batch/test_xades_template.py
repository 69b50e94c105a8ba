"""The per-batch enveloped XAdES B-B template path: its outputs verify with xmlsec1 and
with qcertlib's validator (TOTAL_PASSED, B-B) for documents with namespaces, a default
namespace, comments, non-ASCII text, another declared encoding; the existing path signs
the same inputs validly too; what the template cannot take goes the existing path."""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from qcertlib.batch import BatchFormat, BatchJob, BatchSigner, BatchStatus
from qcertlib.batch._stages import (
    XADES_TEMPLATE,
    finish_xades_template,
    prepare_xades_template,
)
from qcertlib.errors import SigningError
from qcertlib.signing.options import SignatureLevel, SignatureOptions
from qcertlib.signing.xades import sign_xades
from qcertlib.validation import Indication, ValidationPolicy, validate_xml
from tests.batch.conftest import Seal
from tests.conftest import require_tool

DOCUMENTS: dict[str, bytes] = {
    "plain": b"<Factura><Importe>1.00</Importe></Factura>",
    "declaration": b'<?xml version="1.0"?>\n<Factura n="2"><Importe>2.00</Importe></Factura>\n',
    "namespaces": (
        b'<fe:Facturae xmlns:fe="urn:facturae" xmlns:x="urn:extra">'
        b'<x:Item x:code="A&amp;B">3</x:Item><fe:Total>3.00</fe:Total></fe:Facturae>'
    ),
    "default-namespace": (
        b'<Facturae xmlns="urn:facturae"><Parte xmlns="urn:parte"><Nombre>X</Nombre></Parte>'
        b"<Total>4.00</Total></Facturae>"
    ),
    "comments": (
        b"<!-- before -->\n<Factura><!-- inside --><Importe>5.00</Importe></Factura>\n"
        b"<!-- after -->\n"
    ),
    "utf8-non-ascii": (
        '<?xml version="1.0" encoding="UTF-8"?><Factura><Cliente>Ñandú Peña, '
        "S.L. — €10</Cliente></Factura>"
    ).encode(),
    "latin1-declared": (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<Factura><Cliente>Muñoz Ibáñez'
        "</Cliente></Factura>"
    ).encode("latin-1"),
    "self-closing-root": b'<Vacio xmlns:v="urn:v" v:a="1"/>',
    "ds-prefix-taken": b'<ds:Doc xmlns:ds="urn:not-xmldsig"><ds:Item>7</ds:Item></ds:Doc>',
}


@pytest.fixture(scope="module")
def ctx(seal: Seal) -> Any:
    signer = BatchSigner(seal.backend(), SignatureOptions(), executor="threads")
    context = signer._context(BatchFormat.XADES, signer._setup())
    assert context.xades_template is not None
    return context


def _template_sign(seal: Seal, ctx: Any, document: bytes) -> bytes:
    prepared = prepare_xades_template(ctx, document)
    assert prepared is not None
    assert prepared.format == XADES_TEMPLATE
    (value,) = seal.backend().sign_digests([prepared.digest], prepared.algorithm)
    return finish_xades_template(ctx, prepared, value)


def _policy(seal: Seal) -> ValidationPolicy:
    return ValidationPolicy(
        trust_roots=(seal.chain[-1],),
        intermediates=seal.chain[:-1],
        check_revocation=False,
        lint=False,
    )


def _assert_b_b_passed(seal: Seal, signed: bytes) -> None:
    (sig,) = validate_xml(signed, _policy(seal)).signatures
    assert sig.indication is Indication.TOTAL_PASSED, sig.messages
    assert sig.level is SignatureLevel.B_B
    assert sig.signer_certificate == seal.certificate


def _xmlsec1(seal: Seal, path: Path) -> subprocess.CompletedProcess[str]:
    xmlsec1 = require_tool("xmlsec1")["xmlsec1"]
    return subprocess.run(
        [xmlsec1, "--verify", "--trusted-pem", str(seal.root_pem),
         "--untrusted-pem", str(seal.chain_pem), str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_template_output_verifies_with_xmlsec1(
    seal: Seal, ctx: Any, name: str, tmp_path: Path
) -> None:
    out = tmp_path / f"{name}.xml"
    out.write_bytes(_template_sign(seal, ctx, DOCUMENTS[name]))
    proc = _xmlsec1(seal, out)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_template_output_passes_the_validator_at_b_b(seal: Seal, ctx: Any, name: str) -> None:
    _assert_b_b_passed(seal, _template_sign(seal, ctx, DOCUMENTS[name]))


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_template_and_existing_path_both_validate(seal: Seal, ctx: Any, name: str) -> None:
    document = DOCUMENTS[name]
    ours = _template_sign(seal, ctx, document)
    theirs = sign_xades(document, seal.backend(), SignatureOptions())
    _assert_b_b_passed(seal, ours)
    _assert_b_b_passed(seal, theirs)


def test_template_keeps_the_document_bytes_and_encoding(seal: Seal, ctx: Any) -> None:
    document = DOCUMENTS["latin1-declared"]
    signed = _template_sign(seal, ctx, document)
    end = document.rindex(b"</Factura>")
    assert signed.startswith(document[:end] + b"<ds:Signature ")
    assert signed.endswith(b"</ds:Signature></Factura>")
    assert "Muñoz Ibáñez".encode("latin-1") in signed


@pytest.mark.oracle
def test_a_changed_document_no_longer_verifies(seal: Seal, ctx: Any, tmp_path: Path) -> None:
    signed = _template_sign(seal, ctx, DOCUMENTS["namespaces"])
    bad = tmp_path / "bad.xml"
    bad.write_bytes(signed.replace(b"3.00", b"9.00"))
    assert _xmlsec1(seal, bad).returncode != 0
    (sig,) = validate_xml(bad.read_bytes(), _policy(seal)).signatures
    assert sig.indication is Indication.TOTAL_FAILED


def test_utf16_document_takes_the_existing_path(seal: Seal, ctx: Any) -> None:
    document = '<?xml version="1.0" encoding="UTF-16"?><Factura>ñ</Factura>'.encode("utf-16")
    assert prepare_xades_template(ctx, document) is None
    _assert_b_b_passed(seal, sign_xades(document, seal.backend(), SignatureOptions()))


def test_xml_lang_on_the_root_takes_the_existing_path(seal: Seal, ctx: Any) -> None:
    # C14N 1.0 imports xml:* attributes into the signature's subtrees; lxml's subtree
    # C14N (signxml, the validator) does not, so the template leaves such documents alone
    document = b'<Factura xml:lang="es"><Importe>6.00</Importe></Factura>'
    assert prepare_xades_template(ctx, document) is None
    _assert_b_b_passed(seal, sign_xades(document, seal.backend(), SignatureOptions()))


def test_processing_instructions_outside_the_root_take_the_existing_path(ctx: Any) -> None:
    for document in (
        b'<?xml-stylesheet href="f.xsl" type="text/xsl"?><Factura>1</Factura>',
        b"<Factura>1</Factura><?trailing pi?>",
    ):
        assert prepare_xades_template(ctx, document) is None


def test_entities_are_refused_like_the_existing_path(ctx: Any) -> None:
    evil = b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'
    with pytest.raises(SigningError, match="refused for safety"):
        prepare_xades_template(ctx, evil)


def test_fixed_signing_time_is_used(seal: Seal) -> None:
    when = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    signer = BatchSigner(seal.backend(), SignatureOptions(signing_time=when), executor="threads")
    context = signer._context(BatchFormat.XADES, signer._setup())
    signed = _template_sign(seal, context, DOCUMENTS["plain"])
    assert b"<xades:SigningTime>2026-06-01T09:30:00Z</xades:SigningTime>" in signed
    _assert_b_b_passed(seal, signed)


def test_no_template_for_b_t(seal: Seal, ctx: Any, tsa: Any) -> None:
    options = SignatureOptions(level=SignatureLevel.B_T)
    signer = BatchSigner(seal.backend(), options, executor="threads", timestamper=tsa)
    context = signer._context(BatchFormat.XADES, signer._setup())
    assert context.xades_template is None
    assert dataclasses.replace(context, xades_template=None) == context


@pytest.mark.oracle
def test_batch_with_process_pool_uses_the_template(seal: Seal, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    inputs = []
    for name, document in sorted(DOCUMENTS.items()):
        (src / f"{name}.xml").write_bytes(document)
        inputs.append(src / f"{name}.xml")
    utf16 = src / "utf16.xml"
    utf16.write_bytes('<?xml version="1.0" encoding="UTF-16"?><F>ñ</F>'.encode("utf-16"))
    inputs.append(utf16)
    jobs = [BatchJob.into(p, tmp_path / "out", "xades") for p in inputs]
    signer = BatchSigner(seal.backend(), SignatureOptions(), executor="processes", workers=2)
    results = list(signer.sign_all(jobs))
    assert [r.status for r in results] == [BatchStatus.OK] * len(jobs), [r.error for r in results]
    for p in inputs:
        out = tmp_path / "out" / p.name
        proc = _xmlsec1(seal, out)
        assert proc.returncode == 0, (p.name, proc.stderr)
    # the template keeps each document's bytes; the UTF-16 one was re-serialised
    assert (tmp_path / "out" / "plain.xml").read_bytes().startswith(b"<Factura><Importe>")
    assert (tmp_path / "out" / "utf16.xml").read_bytes().startswith(b"<?xml version='1.0'")


def test_template_batches_run_on_threads_by_default(seal: Seal, tmp_path: Path) -> None:
    """Template XAdES batches run on threads by default (a parse and a few splices per
    document): no worker process is started."""
    import multiprocessing
    import threading

    src = tmp_path / "in"
    src.mkdir()
    inputs = []
    for i in range(4):
        (src / f"d{i}.xml").write_bytes(b"<F><I>%d</I></F>" % i)
        inputs.append(src / f"d{i}.xml")
    seen: list[tuple[bool, bool]] = []

    def progress(_done: int, _total: int | None, _result: object) -> None:
        threads = any(t.name.startswith("qcert-batch") for t in threading.enumerate())
        seen.append((threads, bool(multiprocessing.active_children())))

    signer = BatchSigner(seal.backend(), SignatureOptions(), workers=2, progress=progress)
    jobs = [BatchJob.into(p, tmp_path / "out", "xades") for p in inputs]
    results = list(signer.sign_all(jobs))
    assert all(r.ok for r in results), [r.error for r in results]
    assert seen == [(True, False)] * len(inputs)


def test_default_executor_kinds() -> None:
    """Which pool the default (``executor=None``) picks per batch context."""
    import concurrent.futures as cf
    from types import SimpleNamespace
    from typing import cast

    from qcertlib.batch._stages import BatchContext
    from qcertlib.batch.signer import _Executors

    executors = _Executors(None, 2)
    try:

        def pool(fmt: BatchFormat, template: object = None) -> cf.Executor:
            ctx = SimpleNamespace(format=fmt, xades_template=template)
            return executors.get(cast(BatchContext, ctx))

        assert isinstance(pool(BatchFormat.CADES), cf.ThreadPoolExecutor)
        assert isinstance(pool(BatchFormat.XADES, template=object()), cf.ThreadPoolExecutor)
        assert isinstance(pool(BatchFormat.XADES), cf.ProcessPoolExecutor)
        assert isinstance(pool(BatchFormat.PADES), cf.ProcessPoolExecutor)
    finally:
        executors.shutdown()
