"""The per-batch template path for enveloped XAdES B-B (private).

:func:`~qcertlib.signing.xades.prepare_xades` builds every signature with signxml,
serialises, re-parses and canonicalises it (~1.6 ms of CPU per small document). Here
the ``ds:Signature`` element is built once per batch by that same function (a probe
signature) and cut into a text template with slots: the signing time, the digest of
the document, the digests of ``SignedProperties`` and ``KeyInfo``, the signature
value. Ids, ``KeyInfo``/``X509Data``, ``SigningCertificateV2`` and
``DataObjectFormat`` are therefore byte-for-byte those of the existing path.

Inclusive C14N renders every namespace in scope (and inherited ``xml:*``
attributes) on the apex of a canonicalised subtree, so the canonical forms of
``SignedInfo``, ``SignedProperties`` and ``KeyInfo`` depend on the document's root
element. They are computed per *context* — the root's in-scope namespaces and
``xml:*`` attributes plus the signing time (to the second) — by lxml's own C14N on a
probe document with that exact root, cached per worker; the canonical
``SignedInfo`` is cut into a prefix and a suffix around the document digest and the
cut is checked against lxml's C14N with a second digest. Per document only: safe
parse (:func:`~qcertlib.signing.xades.parse_xml`), C14N of the document, one hash,
two string joins, and at finish the signature value is put in and the signature is
inserted as the last child of the root element in the document's own bytes (so the
document keeps its encoding and every byte outside the signature).

One signing time per second: each document's ``SigningTime`` is when it was
prepared, truncated to the second (or ``options.signing_time``).

A document the template cannot take goes through the existing path (which signs it
exactly as before):

* an encoding that is not ASCII-compatible (UTF-16);
* the end of the root element not found in the bytes where lxml's tree puts it;
* ``xml:*`` attributes (``xml:lang``, ``xml:space``) on the root element: inclusive
  C14N 1.0 imports them into the canonical form of the signature's subtrees
  (xmlsec1 does), lxml's subtree C14N — and so signxml, the existing path and
  :func:`~qcertlib.validation.validate_xml` — does not;
* processing instructions outside the root element: C14N 1.0 of the document
  (``URI=""``, xmlsec1) covers them, the existing path digests the root element.

In both cases the existing path's signatures fail ``xmlsec1 --verify`` (a known
limitation of that path, left as it is); the template never produces a signature
that the existing path and the validator would compute differently.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from qcertlib.signing.options import DigestAlgorithm

__all__ = ["Filled", "TemplateMismatch", "XadesTemplate", "fill"]

_XML_NS = "{http://www.w3.org/XML/1998/namespace}"
_SLOTS = ("QCERTSLOTTIME", "QCERTSLOTDOC", "QCERTSLOTPROPS", "QCERTSLOTKEYINFO", "QCERTSLOTVALUE")
_ASCII_ENCODINGS = frozenset(
    {"utf-8", "utf8", "us-ascii", "ascii", "latin1", "latin-1", "windows-1252", "cp1252"}
    | {f"iso-8859-{n}" for n in range(1, 16)}
)


class TemplateMismatch(Exception):
    """The template does not reproduce lxml's canonical form (use the existing path)."""


@dataclass(frozen=True, slots=True)
class XadesTemplate:
    """The ``ds:Signature`` of a probe signature, with text slots (plain, picklable data)."""

    signature: str
    """The serialised ``ds:Signature`` with the five slot markers."""
    props_id: str
    keyinfo_id: str
    digest: DigestAlgorithm
    fixed_time: str | None
    """``options.signing_time`` as XML text, or ``None``: the time of preparation."""

    @classmethod
    def from_signature(
        cls, sig: Any, digest: DigestAlgorithm, fixed_time: datetime | None
    ) -> XadesTemplate:
        """Cut a finished enveloped ``ds:Signature`` element (lxml) into a template."""
        from qcertlib.signing.xades import DS_NS, XADES_NS

        etree = _etree()
        sig = etree.fromstring(etree.tostring(sig, with_tail=False))
        signed_info = sig.find(f"{{{DS_NS}}}SignedInfo")
        refs = signed_info.findall(f"{{{DS_NS}}}Reference")
        props = next(sig.iter(f"{{{XADES_NS}}}SignedProperties"))
        keyinfo = sig.find(f"{{{DS_NS}}}KeyInfo")
        times = list(sig.iter(f"{{{XADES_NS}}}SigningTime"))
        if len(refs) != 3 or refs[0].get("URI") != "" or keyinfo is None or len(times) != 1:
            raise TemplateMismatch("unexpected shape of the probe signature")
        by_uri = {r.get("URI"): r for r in refs[1:]}
        props_ref = by_uri.get(f"#{props.get('Id')}")
        keyinfo_ref = by_uri.get(f"#{keyinfo.get('Id')}")
        if props_ref is None or keyinfo_ref is None:
            raise TemplateMismatch("unexpected references in the probe signature")
        for node, slot in (
            (times[0], _SLOTS[0]),
            (refs[0].find(f"{{{DS_NS}}}DigestValue"), _SLOTS[1]),
            (props_ref.find(f"{{{DS_NS}}}DigestValue"), _SLOTS[2]),
            (keyinfo_ref.find(f"{{{DS_NS}}}DigestValue"), _SLOTS[3]),
            (sig.find(f"{{{DS_NS}}}SignatureValue"), _SLOTS[4]),
        ):
            node.text = slot
        text: str = etree.tostring(sig, with_tail=False, encoding="unicode")
        if any(text.count(slot) != 1 for slot in _SLOTS) or not text.isascii():
            raise TemplateMismatch("the probe signature cannot be cut into a template")
        return cls(
            signature=text,
            props_id=props.get("Id"),
            keyinfo_id=keyinfo.get("Id"),
            digest=digest,
            fixed_time=_xml_time(fixed_time) if fixed_time is not None else None,
        )


def _etree() -> Any:
    from qcertlib.signing.xades import _etree as etree

    return etree()


def _xml_time(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class _Context:
    """The canonical SignedInfo around the document digest, and the signature text
    around its value, for one root context and signing time."""

    c14n_prefix: bytes
    c14n_suffix: bytes
    sig_head: str
    sig_tail: str


_CACHE: dict[tuple[Any, ...], _Context] = {}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _root_key(root: Any) -> tuple[Any, ...]:
    ns = tuple(sorted((p or "", u) for p, u in root.nsmap.items()))
    xml_attrs = tuple(sorted((k, v) for k, v in root.attrib.items() if k.startswith(_XML_NS)))
    return (root.tag, ns, xml_attrs)


def _context(tpl: XadesTemplate, root: Any, when: str) -> _Context:
    key = (tpl.signature, tpl.digest, _root_key(root), when)
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) > 64:
            _CACHE.clear()
        found = _CACHE[key] = _build_context(tpl, root, when)
    return found


def _probe_root(root: Any) -> bytes:
    """An empty element with the same tag, in-scope namespaces and xml:* attributes."""
    etree = _etree()
    probe = etree.Element(root.tag, nsmap=root.nsmap)
    for k, v in root.attrib.items():
        if k.startswith(_XML_NS):
            probe.set(k, v)
    out: bytes = etree.tostring(probe)
    return out


def _build_context(tpl: XadesTemplate, root: Any, when: str) -> _Context:
    from qcertlib.signing.xades import DS_NS, _c14n, parse_xml

    digest = tpl.digest
    base = _probe_root(root)
    sig = tpl.signature.replace(_SLOTS[0], when)

    def place(text: str) -> Any:
        before, after = _split(base, parse_xml(base))
        doc = parse_xml(before + text.encode("ascii") + after)
        return next(doc.iter(f"{{{DS_NS}}}Signature"))

    probe = place(sig)
    props = _by_id(probe, tpl.props_id)
    keyinfo = _by_id(probe, tpl.keyinfo_id)
    sig = sig.replace(_SLOTS[2], _b64(digest.digest(_c14n(props))))
    sig = sig.replace(_SLOTS[3], _b64(digest.digest(_c14n(keyinfo))))
    marks = (_b64(digest.digest(b"probe 1")), _b64(digest.digest(b"probe 2")))
    forms = [_c14n(place(sig.replace(_SLOTS[1], m)).find(f"{{{DS_NS}}}SignedInfo")) for m in marks]
    prefix, sep, suffix = forms[0].partition(marks[0].encode("ascii"))
    if not sep or prefix + marks[1].encode("ascii") + suffix != forms[1]:
        raise TemplateMismatch("the SignedInfo template does not match lxml's C14N")
    head, _, tail = sig.partition(_SLOTS[4])
    return _Context(prefix, suffix, head, tail)


def _by_id(sig: Any, ident: str) -> Any:
    for node in sig.iter():
        if node.get("Id") == ident:
            return node
    raise TemplateMismatch(f"{ident} not found in the probe signature")


_WS = b" \t\r\n"


def _split(data: bytes, root: Any) -> tuple[bytes, bytes]:
    """Split the document's bytes where a last child of the root element goes.

    Returns ``(before, after)``; a self-closing root element is opened and closed.
    Raises :class:`TemplateMismatch` when the end of the root element is not where
    lxml's tree says it is (then the existing path signs the document).
    """
    etree = _etree()
    trailing = list(root.itersiblings())
    end = len(data)
    seen = 0
    while True:
        while end and data[end - 1] in _WS:
            end -= 1
        if data.endswith(b"-->", 0, end):
            end = data.rfind(b"<!--", 0, end)
        elif data.endswith(b"?>", 0, end):
            end = data.rfind(b"<?", 0, end)
        else:
            break
        if end < 0:
            raise TemplateMismatch("cannot find the end of the root element")
        seen += 1
    if seen != len(trailing):
        raise TemplateMismatch("cannot find the end of the root element")
    prefix = root.prefix
    local = etree.QName(root).localname
    qname = (f"{prefix}:{local}" if prefix else local).encode("utf-8")
    if data.endswith(b"/>", 0, end):
        if len(root) or root.text:
            raise TemplateMismatch("cannot find the end of the root element")
        return data[: end - 2] + b">", b"</" + qname + b">" + data[end:]
    start = data.rfind(b"</", 0, end)
    if start < 0 or not re.fullmatch(rb"</" + re.escape(qname) + rb"[ \t\r\n]*>", data[start:end]):
        raise TemplateMismatch("cannot find the end tag of the root element")
    return data[:start], data[start:]


@dataclass(frozen=True, slots=True)
class Filled:
    """One prepared document: the canonical SignedInfo and the output around the value."""

    signed_info: bytes
    before: bytes
    after: bytes


def fill(tpl: XadesTemplate, data: bytes, root: Any, at: datetime | None = None) -> Filled:
    """Prepare one parsed document (``root`` from :func:`parse_xml` of ``data``).

    Raises :class:`TemplateMismatch` when this document must take the existing path.
    """
    etree = _etree()
    tree = root.getroottree()
    encoding = (tree.docinfo.encoding or "utf-8").lower()
    if encoding not in _ASCII_ENCODINGS or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TemplateMismatch(f"encoding {encoding} is not ASCII-compatible")
    if any(k.startswith(_XML_NS) for k in root.attrib):
        # inclusive C14N 1.0 imports these into the signature's subtrees; lxml's
        # subtree C14N (and so signxml and the existing path) does not
        raise TemplateMismatch("xml:* attributes on the root element")
    for node in (*root.itersiblings(preceding=True), *root.itersiblings()):
        if isinstance(node, etree._ProcessingInstruction):
            # the enveloped reference (URI="") covers them in C14N 1.0 (xmlsec1); the
            # existing path digests the root element only
            raise TemplateMismatch("processing instructions outside the root element")
    when = tpl.fixed_time or _xml_time(at or datetime.now(UTC))
    ctx = _context(tpl, root, when)
    canonical: bytes = etree.tostring(tree, method="c14n", exclusive=False, with_comments=False)
    doc_digest = _b64(tpl.digest.digest(canonical))
    before, after = _split(data, root)
    head = ctx.sig_head.replace(_SLOTS[1], doc_digest)
    return Filled(
        signed_info=ctx.c14n_prefix + doc_digest.encode("ascii") + ctx.c14n_suffix,
        before=before + head.encode("ascii"),
        after=ctx.sig_tail.encode("ascii") + after,
    )
