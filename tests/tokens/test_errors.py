"""Every python-pkcs11 failure becomes a readable TokenError subclass (no CKR_* code)."""

from __future__ import annotations

import pkcs11
import pytest

from qcertlib.errors import (
    TokenError,
    TokenKeyNotFoundError,
    TokenMechanismError,
    TokenNotPresentError,
    TokenPinIncorrectError,
    TokenPinLockedError,
)
from qcertlib.tokens._p11 import token_error

E = pkcs11.exceptions


@pytest.mark.parametrize(
    ("raised", "expected", "phrase"),
    [
        (E.PinIncorrect, TokenPinIncorrectError, "PIN is incorrect"),
        (E.PinLenRange, TokenPinIncorrectError, "length"),
        (E.PinInvalid, TokenPinIncorrectError, "length or characters"),
        (E.PinLocked, TokenPinLockedError, "PUK"),
        (E.PinExpired, TokenError, "expired"),
        (E.NoSuchToken, TokenNotPresentError, "not present"),
        (E.TokenNotPresent, TokenNotPresentError, "not present"),
        (E.DeviceRemoved, TokenNotPresentError, "not present"),
        (E.NoSuchKey, TokenKeyNotFoundError, "no such key"),
        (E.MechanismInvalid, TokenMechanismError, "mechanism"),
        (E.MechanismParamInvalid, TokenMechanismError, "mechanism"),
        (E.KeyTypeInconsistent, TokenMechanismError, "may not be used"),
        (E.UserNotLoggedIn, TokenError, "needs a login"),
        (E.UserPinNotInitialized, TokenError, "not initialised"),
        (E.TokenWriteProtected, TokenError, "write-protected"),
        (E.SessionReadOnly, TokenError, "write-protected"),
        (E.DeviceMemory, TokenError, "device memory"),
    ],
)
def test_pkcs11_exception_mapping(
    raised: type[Exception], expected: type[TokenError], phrase: str
) -> None:
    error = token_error(raised(), what="signing")
    assert type(error) is expected
    assert phrase in str(error)
    assert "CKR_" not in str(error)
    assert "0x" not in str(error)


def test_importing_the_tokens_package_does_not_load_python_pkcs11() -> None:
    import subprocess
    import sys

    code = "import sys, qcertlib.tokens, qcertlib.cli.token; print('pkcs11' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
