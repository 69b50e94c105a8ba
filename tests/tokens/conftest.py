"""SoftHSM2 fixtures: a private SOFTHSM2_CONF and token directory per test session.

Tokens are created with ``softhsm2-util --init-token --free`` **before** this
process loads the module: SoftHSM2 reads its token directory at ``C_Initialize``
and does not see tokens another process creates afterwards.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509

from qcertlib.issuance import CertificateAuthority, KeySpec
from qcertlib.profiles import Citizen, PublicBody
from qcertlib.tokens import KeyInfo, TokenSession, issue_on_token
from tests.conftest import require_tool

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
SO_PIN = "87654321"
PIN = "kq7-Pw!x"
MAIN = "qtest"  # RSA + EC keys with citizen-qscd certificates
PINS = "pins"  # only for wrong-PIN tries
SPARE = "spare"  # keys without certificates, ALWAYS_AUTHENTICATE key
LOCKS = "locks"  # PIN lockout through the shim that reports the PIN flags
LOCKS_SILENT = "locks-silent"  # PIN lockout through the shim that reports no flags

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


def require_module() -> str:
    """The SoftHSM2 module path; skips locally, fails under CI=true (like require_tool)."""
    if not Path(MODULE).exists():
        message = f"SoftHSM2 module {MODULE} is not installed (apt-get install softhsm2)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return MODULE


@dataclass(frozen=True)
class Hsm:
    module: str
    conf: Path
    tools: dict[str, str]

    def env(self) -> dict[str, str]:
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf)}

    def p11(self, token: str, *args: str, login: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [self.tools["pkcs11-tool"], "--module", self.module, "--token-label", token]
        if login:
            argv += ["--login", "--pin", PIN]
        return subprocess.run(
            [*argv, *args], capture_output=True, text=True, env=self.env(), check=False, timeout=60
        )


@pytest.fixture(scope="session")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hsm]:
    tools = require_tool("softhsm2-util", "pkcs11-tool", "openssl")
    module = require_module()
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n"
        "log.level = ERROR\nslots.removable = false\n"
    )
    before = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    for label in (MAIN, PINS, SPARE, LOCKS, LOCKS_SILENT):
        subprocess.run(
            [
                tools["softhsm2-util"],
                "--init-token",
                "--free",
                "--label",
                label,
                "--so-pin",
                SO_PIN,
                "--pin",
                PIN,
            ],
            check=True,
            capture_output=True,
            env={**os.environ},
            timeout=60,
        )
    yield Hsm(module, conf, tools)
    if before is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = before


@pytest.fixture(scope="session")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.init(
        tmp_path_factory.mktemp("pki") / "pki", name="Token Test PKI", key_spec=KeySpec.EC_P256
    )


@dataclass(frozen=True)
class Issued:
    key: KeyInfo
    certificate: x509.Certificate


@pytest.fixture(scope="session")
def issued(hsm: Hsm, ca: CertificateAuthority) -> dict[str, Issued]:
    """citizen-qscd certificates for an RSA-2048 ('rsa') and an EC P-256 ('ec') token key."""
    out: dict[str, Issued] = {}
    with TokenSession.open(hsm.module, token_label=MAIN, pin=PIN, rw=True) as session:
        for label, spec in (("rsa", KeySpec.RSA_2048), ("ec", KeySpec.EC_P256)):
            result = issue_on_token(
                ca, "citizen-qscd", CITIZEN, session=session, key_label=label, key_spec=spec
            )
            assert result.key_generated
            out[label] = Issued(result.key, result.certificate)
    return out


@pytest.fixture(scope="session")
def lockout_modules(hsm: Hsm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """PKCS#11 modules that add PIN lockout (3 tries) in front of SoftHSM2, which has none.

    ``"flags"`` reports CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED like a card that
    tells; ``"silent"`` reports nothing and only answers CKR_PIN_LOCKED (like a card
    whose driver maps the APDU status 6983). Built from ``lockout_shim.c`` with gcc.
    """
    gcc = require_tool("gcc")["gcc"]
    out = tmp_path_factory.mktemp("shim")
    source = Path(__file__).with_name("lockout_shim.c")
    modules = {}
    for kind, extra in (("flags", []), ("silent", ["-DSILENT"])):
        target = out / f"lockout-{kind}.so"
        subprocess.run(
            [
                gcc,
                "-shared",
                "-fPIC",
                "-Wall",
                "-Werror",
                f'-DTARGET="{hsm.module}"',
                *extra,
                "-o",
                str(target),
                str(source),
                "-ldl",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        modules[kind] = str(target)
    return modules
