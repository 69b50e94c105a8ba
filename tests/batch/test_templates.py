"""The per-batch templates reproduce exactly what the signing modules build per
document: PAdES signed attributes (pyHanko) and the PAdES B-B CMS container; the
DER helpers refuse what they cannot cut."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from asn1crypto import cms

from qcertlib.batch import BatchFormat, BatchSigner
from qcertlib.batch._templates import CmsTemplate, DigestSlot, SignedAttrsTemplate, minimal_pdf
from qcertlib.signing import _cms
from qcertlib.signing._docs_common import unpack_state
from qcertlib.signing.options import SignatureLevel, SignatureOptions
from qcertlib.signing.pades import finish_pades, prepare_pades
from tests.batch.conftest import Seal, make_pdf


def _pades_context(seal: Seal, options: SignatureOptions) -> object:
    signer = BatchSigner(seal.backend(), options, executor="threads")
    return signer._context(BatchFormat.PADES, signer._setup())


def _others(der: bytes) -> list[tuple[str, bytes]]:
    attrs = cms.CMSAttributes.load(der)
    return [
        (a["type"].dotted, a["values"].dump())
        for a in attrs
        if a["type"].native != "message_digest"
    ]


def _digest(der: bytes) -> bytes:
    (value,) = _cms.attr_values(cms.CMSAttributes.load(der), "message_digest")
    out: bytes = value.native
    return out


def test_pades_templates_match_pyhanko_for_another_document(seal: Seal) -> None:
    ctx = _pades_context(seal, SignatureOptions())
    assert ctx.pades_attrs is not None  # type: ignore[attr-defined]
    assert ctx.cms_template is not None  # type: ignore[attr-defined]
    options = SignatureOptions(signing_time=datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    pdf = make_pdf("otro documento")
    plain = prepare_pades(pdf, seal.certificate, seal.chain, options, bytes_reserved=16384)
    hooked = prepare_pades(
        pdf,
        seal.certificate,
        seal.chain,
        options,
        bytes_reserved=16384,
        signed_attrs=ctx.pades_attrs.render,  # type: ignore[attr-defined]
    )
    st_plain, st_hooked = unpack_state(plain.state), unpack_state(hooked.state)
    # pyHanko's /ID makes every preparation differ, so compare attribute by attribute:
    # all equal but the message digest, which is this document's ByteRange digest
    assert _others(st_hooked["signed_attrs"]) == _others(st_plain["signed_attrs"])
    assert _digest(st_hooked["signed_attrs"]) == st_hooked["document_digest"]
    assert _digest(st_plain["signed_attrs"]) == st_plain["document_digest"]
    (sig,) = seal.backend().sign_digests([plain.digest], plain.algorithm)
    by_pyhanko = finish_pades(plain, sig, options)
    by_template = finish_pades(
        plain,
        sig,
        options,
        cms_builder=ctx.cms_template.assemble,  # type: ignore[attr-defined]
    )
    start, end = int(st_plain["start"]), int(st_plain["end"])
    assert by_template[start:end] == by_pyhanko[start:end]


def test_pades_b_t_keeps_pyhanko_for_the_container(seal: Seal, tsa: Any) -> None:
    options = SignatureOptions(level=SignatureLevel.B_T)
    signer = BatchSigner(seal.backend(), options, executor="threads", timestamper=tsa)
    ctx = signer._context(BatchFormat.PADES, signer._setup())
    assert ctx.pades_attrs is not None
    assert ctx.cms_template is None


def test_der_helpers_refuse_what_they_cannot_cut() -> None:
    with pytest.raises(ValueError, match="exactly once"):
        DigestSlot.cut(b"\x31\x00", b"\x01" * 32)
    with pytest.raises(ValueError, match="exactly once"):
        SignedAttrsTemplate.cut(b"\x31\x00", b"\x01" * 32, b"\x17\x0d" + b"0" * 13)
    with pytest.raises(ValueError, match="SignedData"):
        CmsTemplate.from_der(b"\x30\x03\x02\x01\x00")
    with pytest.raises(ValueError, match="truncated"):
        CmsTemplate.from_der(b"\x30\x10\x02")
    assert minimal_pdf("x").startswith(b"%PDF-1.7")
