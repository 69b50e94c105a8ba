"""PKCS#12 load and dump times: qcertlib against `openssl pkcs12` and cryptography.

Same file, same iteration counts. ``openssl`` runs as a subprocess, so its figures
include process start-up (printed separately as a baseline). Each figure is the
median of ``--repeat`` runs (default 5). Run: ``python benchmarks/bench_pkcs12.py``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12
from cryptography.x509.oid import NameOID

from qcertlib.pkcs12 import (
    DEFAULT_ITERATIONS,
    KeyStore,
    Pkcs12Compat,
    dump_pkcs12,
    load_pkcs12,
)

PIN = "bench-1234"
REAL = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "real-certs"


def _median(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _pki() -> tuple[rsa.RSAPrivateKey, x509.Certificate, x509.Certificate]:
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)

    def cert(cn: str, key: rsa.RSAPrivateKey, signer: rsa.RSAPrivateKey) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench Root")]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(signer, hashes.SHA256())
        )

    return leaf_key, cert("Bench Leaf", leaf_key, root_key), cert("Bench Root", root_key, root_key)


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _crypto_load(data: bytes, pin: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BER fallback warning on FNMT files
        crypto_pkcs12.load_pkcs12(data, pin.encode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    repeat: int = args.repeat
    if shutil.which("openssl") is None:
        print("openssl not found")
        return 1
    key, leaf, root = _pki()
    store = KeyStore.single(key, leaf, (root,), friendly_name="bench")
    rows: list[tuple[str, float, float | None, float | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "pin").write_text(PIN)
        (work / "key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (work / "cert.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        (work / "chain.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
        startup = _median(lambda: _openssl("version"), repeat)
        passin = f"file:{work / 'pin'}"

        for compat in Pkcs12Compat:
            n = DEFAULT_ITERATIONS[compat]
            data = dump_pkcs12(store, PIN, compat=compat)
            path = work / f"{compat.value}.p12"
            path.write_bytes(data)
            ossl_alg = (
                ["-macalg", "sha256"]
                if compat is Pkcs12Compat.MODERN
                else ["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"]
            )
            if compat is Pkcs12Compat.MODERN:
                enc = (
                    serialization.PrivateFormat.PKCS12.encryption_builder()
                    .kdf_rounds(n)
                    .key_cert_algorithm(crypto_pkcs12.PBES.PBESv2SHA256AndAES256CBC)
                    .hmac_hash(hashes.SHA256())
                    .build(PIN.encode())
                )
            else:
                enc = (
                    serialization.PrivateFormat.PKCS12.encryption_builder()
                    .kdf_rounds(n)
                    .key_cert_algorithm(crypto_pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
                    .hmac_hash(hashes.SHA1())  # noqa: S303 - the legacy format measured
                    .build(PIN.encode())
                )
            label = f"{compat.value} ({n:,} it.)"
            load_args = ["pkcs12", "-in", str(path), "-passin", passin, "-nodes"]
            export_args = [
                "pkcs12", "-export", "-inkey", str(work / "key.pem"),
                "-in", str(work / "cert.pem"), "-certfile", str(work / "chain.pem"),
                "-name", "bench", "-passout", passin, "-iter", str(n), *ossl_alg,
                "-out", str(work / f"ossl-{compat.value}.p12"),
            ]  # fmt: skip
            rows.append(
                (
                    f"load {label}",
                    _median(partial(load_pkcs12, data, PIN), repeat),
                    _median(partial(_openssl, *load_args, "-out", "/dev/null"), repeat),
                    _median(partial(_crypto_load, data, PIN), repeat),
                )
            )
            rows.append(
                (
                    f"dump {label}",
                    _median(partial(dump_pkcs12, store, PIN, compat=compat), repeat),
                    _median(partial(_openssl, *export_args), repeat),
                    _median(
                        partial(
                            crypto_pkcs12.serialize_key_and_certificates,
                            b"bench",
                            key,
                            leaf,
                            [root],
                            enc,
                        ),
                        repeat,
                    ),
                )
            )

        for name, pin in (
            ("fnmt-test-99999999R-2020.p12", "1234"),
            ("fnmt-test-empleado-publico-00000000T-and-99999999R.p12", "123456"),
        ):
            data = base64.b64decode((REAL / f"{name}.b64").read_text())
            path = work / name
            path.write_bytes(data)
            (work / "fnmt-pin").write_text(pin)
            keys = len(load_pkcs12(data, pin).keys)
            fnmt_args = ["pkcs12", "-legacy", "-in", str(path), "-nodes", "-out", "/dev/null",
                         "-passin", f"file:{work / 'fnmt-pin'}"]  # fmt: skip
            rows.append(
                (
                    f"load FNMT {keys}-key (RC2-40/3DES, ~100k it.)",
                    _median(partial(load_pkcs12, data, pin), repeat),
                    _median(partial(_openssl, *fnmt_args), repeat),
                    _median(partial(_crypto_load, data, pin), repeat),
                )
            )

    print(f"openssl process start-up (`openssl version`): {startup * 1000:.1f} ms (included)")
    print(f"median of {repeat} runs, milliseconds\n")
    header = (
        f"{'operation':44} {'qcertlib':>9} {'openssl':>9} {'crypto.':>9} "
        f"{'q/openssl':>9} {'q/crypto':>9}"
    )
    print(header)
    print("-" * len(header))
    for label, ours, ossl, crypto in rows:

        def fmt(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:9.1f}"

        def ratio(other: float | None, ours: float = ours) -> str:
            return "-" if not other else f"{ours / other:8.2f}x"

        print(
            f"{label:44} {fmt(ours)} {fmt(ossl)} {fmt(crypto)} {ratio(ossl):>9} {ratio(crypto):>9}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
