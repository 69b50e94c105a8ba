"""PKCS#11 token signing throughput next to a software key, from one run.

Creates a throw-away SoftHSM2 token (private ``SOFTHSM2_CONF`` in a temp dir), has
qcertlib's test CA issue a citizen-qscd certificate for a key generated on the
token, then for RSA-2048 and EC P-256 prints:

* ``sign_digests``: N pre-hashed digests in one call, one login
  (:class:`~qcertlib.tokens.Pkcs11Backend`) vs the same key type in memory
  (:class:`~qcertlib.signing.backends.SoftwareKeyBackend`);
* ``CAdES batch``: N documents through the three stages — ``prepare_cades`` for
  each, ONE ``sign_digests`` call for all, ``finish_cades`` for each;
* ``batch core``: the same N documents as files through
  :class:`~qcertlib.batch.BatchSigner` (threads executor);
* the token's login count after all the batches (must be 1).

Usage: ``python benchmarks/bench_pkcs11.py [-n 200]``. Needs softhsm2 and the
``pkcs11`` extra; prints a note and exits 0 when SoftHSM2 is not installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from qcertlib.signing.backends import SignerBackend

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "bench-pin"


def _rate(count: int, func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return count / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="digests / documents per batch")
    args, _ = parser.parse_known_args()
    n: int = args.n
    if not Path(MODULE).exists() or shutil.which("softhsm2-util") is None:
        print(f"SoftHSM2 not installed ({MODULE}): skipped")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "tokens").mkdir()
        conf = base / "softhsm2.conf"
        conf.write_text(
            f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n"
            "log.level = ERROR\nslots.removable = false\n"
        )
        os.environ["SOFTHSM2_CONF"] = str(conf)  # before the module is loaded
        subprocess.run(
            [
                "softhsm2-util",
                "--init-token",
                "--free",
                "--label",
                "bench",
                "--so-pin",
                "12345678",
                "--pin",
                PIN,
            ],
            check=True,
            capture_output=True,
        )
        return _run(base, n)


def _measure(
    backend: SignerBackend, digests: list[bytes], documents: list[bytes], work: Path
) -> tuple[float, float, float]:
    """Best of 3: digests signed per second, CAdES documents per second (three stages
    in this thread), CAdES documents per second through the batch core (files)."""
    from qcertlib.batch import BatchJob, BatchSigner
    from qcertlib.signing.cades import finish_cades, prepare_cades
    from qcertlib.signing.options import DigestAlgorithm, SignatureOptions

    alg = DigestAlgorithm.SHA256
    options = SignatureOptions()

    def raw() -> None:
        backend.sign_digests(digests, alg)

    def batch() -> None:
        prepared = [
            prepare_cades(
                d, backend.certificate, backend.chain, options, mechanism=backend.mechanism
            )
            for d in documents
        ]
        signatures = backend.sign_digests([p.digest for p in prepared], alg)
        for p, s in zip(prepared, signatures, strict=True):
            finish_cades(p, s, options)

    (work / "in").mkdir(exist_ok=True)
    jobs = []
    for i, doc in enumerate(documents):
        path = work / "in" / f"doc{i:04}.txt"
        path.write_bytes(doc)
        jobs.append(BatchJob.into(path, work / "out", "cades"))
    signer = BatchSigner(backend, SignatureOptions(), executor="threads")

    def core() -> None:
        for out in (work / "out").glob("*"):
            out.unlink()
        results = list(signer.sign_all(jobs))
        assert all(r.status.value == "ok" for r in results)

    raw()  # warm-up
    batch()
    return (
        max(_rate(len(digests), raw) for _ in range(3)),
        max(_rate(len(documents), batch) for _ in range(3)),
        max(_rate(len(documents), core) for _ in range(3)),
    )


def _run(base: Path, n: int) -> int:
    from qcertlib.issuance import CertificateAuthority, KeySpec, generate_key
    from qcertlib.profiles import Citizen
    from qcertlib.signing.backends import SoftwareKeyBackend
    from qcertlib.signing.options import DigestAlgorithm
    from qcertlib.tokens import Pkcs11Backend, TokenSession, issue_on_token

    ca = CertificateAuthority.init(base / "pki", key_spec=KeySpec.EC_P256)
    holder = Citizen(
        given_name="ANA", first_surname="GARCIA", nif="12345678Z", email="ana@example.com"
    )
    specs = {"RSA-2048": KeySpec.RSA_2048, "EC P-256": KeySpec.EC_P256}
    with TokenSession.open(MODULE, token_label="bench", pin=PIN, rw=True) as session:
        for name, spec in specs.items():
            issue_on_token(
                ca, "citizen-qscd", holder, session=session, key_label=name, key_spec=spec
            )
    alg = DigestAlgorithm.SHA256
    digests = [alg.digest(f"doc {i}".encode()) for i in range(n)]
    documents = [f"documento {i}\n".encode() * 20 for i in range(n)]
    print(
        f"{'key':<9} {'backend':<9} {'sign_digests/s':>15} {'CAdES docs/s':>13}"
        f" {'batch core docs/s':>18}  logins"
    )
    for name, spec in specs.items():
        soft_key = generate_key(spec)
        soft_cert = ca.issue("citizen-qscd", holder, soft_key.public_key())
        software = SoftwareKeyBackend(soft_key, soft_cert, ca.chain)
        open_start = time.perf_counter()
        token = Pkcs11Backend.open(
            MODULE, token_label="bench", pin=PIN, key_label=name, chain=ca.chain
        )
        open_ms = (time.perf_counter() - open_start) * 1000
        for label, backend in (("software", software), ("token", token)):
            work = base / f"{name}-{label}".replace(" ", "")
            work.mkdir()
            raw, docs, core = _measure(backend, digests, documents, work)
            logins = str(token.login_count) if backend is token else "-"
            print(f"{name:<9} {label:<9} {raw:>15.0f} {docs:>13.0f} {core:>18.0f}  {logins}")
        print(f"{'':<9} (token open + login: {open_ms:.1f} ms)")
        assert token.login_count == 1
        token.close()
    print(f"n = {n}; SoftHSM2 is a software token: a smart card signs ~1-3/s, an HSM 100s-1000s/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
