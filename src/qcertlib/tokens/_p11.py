"""Private plumbing over python-pkcs11: module loading, token lookup, logins, errors.

python-pkcs11 is imported lazily (extra ``pkcs11``), so ``import qcertlib.tokens``
works without it. Every exception python-pkcs11 raises is turned into a
:class:`~qcertlib.errors.TokenError` subclass by :func:`token_error`; no raw
``CKR_*`` code and no PIN ever reaches a message.

PKCS#11 login state belongs to the *application* (this process), not to a session:
one ``C_Login`` logs in every session of that token, and ``C_Logout`` on any
session logs them all out. :class:`_LoginRegistry` therefore keeps one reference
counted login per (module, token) and remembers a keyed fingerprint of the PIN it
was made with, so a second opener with another PIN is refused instead of riding on
the first login.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import hmac
import importlib
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qcertlib.errors import (
    TokenError,
    TokenKeyNotFoundError,
    TokenMechanismError,
    TokenNotPresentError,
    TokenPinIncorrectError,
    TokenPinLockedError,
)

__all__ = [
    "LoginHandle",
    "find_token",
    "load_module",
    "p11",
    "pin_state",
    "token_error",
]

# CK_TOKEN_INFO flags (PKCS#11 v2.40 §3.2) used for PIN diagnostics.
CKF_USER_PIN_COUNT_LOW = 0x00010000
CKF_USER_PIN_FINAL_TRY = 0x00020000
CKF_USER_PIN_LOCKED = 0x00040000
CKF_TOKEN_INITIALIZED = 0x00000400
CKF_USER_PIN_INITIALIZED = 0x00000008
CKF_PROTECTED_AUTHENTICATION_PATH = 0x00000100
CKF_LOGIN_REQUIRED = 0x00000004
CKF_WRITE_PROTECTED = 0x00000002


def p11() -> Any:
    """The ``pkcs11`` package, or a :class:`TokenError` saying how to install it."""
    try:
        return importlib.import_module("pkcs11")
    except ImportError:
        raise TokenError(
            "PKCS#11 support needs python-pkcs11: pip install 'qcertlib[pkcs11]'"
        ) from None


_MODULES: dict[str, Any] = {}
_MODULES_LOCK = threading.Lock()


def load_module(path: str | os.PathLike[str]) -> Any:
    """Load (once per process) the PKCS#11 module at *path*; returns a ``pkcs11.lib``.

    A module is initialised once per process (``C_Initialize`` may not be called
    twice), so the same object is returned for the same resolved path.
    """
    pkcs11 = p11()
    resolved = str(Path(path).resolve())
    with _MODULES_LOCK:
        lib = _MODULES.get(resolved)
        if lib is not None:
            return lib
        if not Path(resolved).is_file():
            raise TokenError(f"PKCS#11 module {path} does not exist")
        try:
            lib = pkcs11.lib(resolved)
        except pkcs11.exceptions.PKCS11Error as exc:
            raise TokenError(f"cannot load the PKCS#11 module {path}: {_describe(exc)}") from None
        _MODULES[resolved] = lib
        return lib


def _describe(exc: BaseException) -> str:
    """A readable phrase for a python-pkcs11 exception (its class name in words)."""
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", type(exc).__name__).lower()
    return words or "token error"


def find_token(lib: Any, *, label: str | None, serial: str | None) -> Any:
    """The initialised token with *label* and/or *serial* (:class:`TokenNotPresentError`)."""
    if label is None and serial is None:
        raise ValueError("give the token label or its serial number")
    matches = []
    seen: list[str] = []
    try:
        for slot in lib.get_slots(token_present=True):
            token = slot.get_token()
            if not int(token.flags) & CKF_TOKEN_INITIALIZED:
                continue
            seen.append(token.label)
            if label is not None and token.label != label:
                continue
            if serial is not None and token.serial.decode("ascii", "replace") != serial:
                continue
            matches.append(token)
    except p11().exceptions.PKCS11Error as exc:
        raise token_error(exc, what="listing the tokens") from None
    wanted = " and ".join(
        part
        for part in (
            f"label {label!r}" if label is not None else "",
            f"serial {serial!r}" if serial is not None else "",
        )
        if part
    )
    if not matches:
        present = ", ".join(repr(s) for s in seen) or "none"
        raise TokenNotPresentError(f"no token with {wanted} is present (tokens present: {present})")
    if len(matches) > 1:
        raise TokenNotPresentError(
            f"{len(matches)} tokens match {wanted}: select one by its serial number"
        )
    return matches[0]


@dataclass(frozen=True, slots=True)
class PinState:
    """What the token says about its user PIN (from ``CK_TOKEN_INFO.flags``)."""

    count_low: bool
    final_try: bool
    locked: bool


def pin_state(token: Any) -> PinState:
    """Re-read the token's PIN flags (fresh ``C_GetTokenInfo``)."""
    try:
        fresh = token.slot.get_token()
        flags = int(fresh.flags)
    except Exception:
        flags = 0
    return PinState(
        count_low=bool(flags & CKF_USER_PIN_COUNT_LOW),
        final_try=bool(flags & CKF_USER_PIN_FINAL_TRY),
        locked=bool(flags & CKF_USER_PIN_LOCKED),
    )


def _pin_incorrect(token: Any | None, detail: str = "") -> TokenPinIncorrectError:
    state = pin_state(token) if token is not None else PinState(False, False, False)
    if state.locked:
        return TokenPinLockedError(  # type: ignore[return-value]
            "the PIN is now locked after too many wrong tries: unblock it with the PUK / SO PIN"
        )
    if state.final_try:
        return TokenPinIncorrectError(
            "the PIN is incorrect; one try left before the token locks it", tries_left=1
        )
    note = " (the token reports earlier failed tries)" if state.count_low else ""
    return TokenPinIncorrectError(f"the PIN is incorrect{detail}{note}")


def token_error(exc: BaseException, *, what: str, token: Any | None = None) -> TokenError:
    """Map a python-pkcs11 exception raised while doing *what* to a :class:`TokenError`."""
    pkcs11 = p11()
    e = pkcs11.exceptions
    if isinstance(exc, e.PinIncorrect):
        return _pin_incorrect(token)
    if isinstance(exc, e.PinLenRange | e.PinInvalid):
        return _pin_incorrect(token, " (its length or characters are not accepted by the token)")
    if isinstance(exc, e.PinLocked):
        return TokenPinLockedError(
            "the PIN is locked: unblock it with the PUK / SO PIN before signing"
        )
    if isinstance(exc, e.PinExpired):
        return TokenError("the PIN has expired: change it before using the token")
    if isinstance(
        exc,
        e.NoSuchToken
        | e.TokenNotPresent
        | e.TokenNotRecognised
        | e.DeviceRemoved
        | e.SlotIDInvalid,
    ):
        return TokenNotPresentError(f"the token is not present ({what})")
    if isinstance(exc, e.NoSuchKey):
        return TokenKeyNotFoundError(f"no such key on the token ({what})")
    if isinstance(exc, e.MechanismInvalid | e.MechanismParamInvalid):
        return TokenMechanismError(f"the token does not support the mechanism needed for {what}")
    if isinstance(exc, e.KeyTypeInconsistent):
        return TokenMechanismError(f"the key may not be used for {what}")
    if isinstance(exc, e.UserNotLoggedIn):
        return TokenError(f"the token needs a login for {what}")
    if isinstance(exc, e.UserPinNotInitialized):
        return TokenError("the user PIN of this token is not initialised")
    if isinstance(exc, e.TokenWriteProtected | e.SessionReadOnly):
        return TokenError(f"the token is write-protected ({what})")
    return TokenError(f"the token refused {what}: {_describe(exc)}")


class _FunctionList(ctypes.Structure):
    """``CK_FUNCTION_LIST`` (PKCS#11 v2.40): a version, then 68 function pointers."""

    _fields_ = (
        ("major", ctypes.c_ubyte),
        ("minor", ctypes.c_ubyte),
        ("functions", ctypes.c_void_p * 68),
    )


_C_LOGIN_INDEX = 18  # C_Login in CK_FUNCTION_LIST
_C_LOGOUT_INDEX = 19
_CKU_USER = 1
_LoginFn = ctypes.CFUNCTYPE(
    ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_ulong
)
_LogoutFn = ctypes.CFUNCTYPE(ctypes.c_ulong, ctypes.c_ulong)
_RAW: dict[str, tuple[Any, Any]] = {}


def _raw_functions(module_path: str) -> tuple[Any, Any]:
    """``C_Login`` / ``C_Logout`` of an already loaded module, from its function list.

    python-pkcs11 only logs in while opening a session and leaves that session open
    when the PIN is wrong; calling ``C_Login`` on a session we opened lets us close
    it again. ``dlopen`` returns the handle python-pkcs11 already holds.
    """
    found = _RAW.get(module_path)
    if found is None:
        dll = ctypes.CDLL(module_path)
        get_list = dll.C_GetFunctionList
        get_list.argtypes = [ctypes.POINTER(ctypes.POINTER(_FunctionList))]
        get_list.restype = ctypes.c_ulong
        table = ctypes.POINTER(_FunctionList)()
        if get_list(ctypes.byref(table)) != 0 or not table:
            raise TokenError(f"the PKCS#11 module {module_path} gives no function list")
        functions = table.contents.functions
        found = (_LoginFn(functions[_C_LOGIN_INDEX]), _LogoutFn(functions[_C_LOGOUT_INDEX]))
        _RAW[module_path] = found
    return found


# CK_RV values C_Login returns (PKCS#11 v2.40 §11.6); never shown to the user.
_CKR_PIN_INCORRECT = 0xA0
_CKR_PIN_INVALID = 0xA1
_CKR_PIN_LEN_RANGE = 0xA2
_CKR_PIN_EXPIRED = 0xA3
_CKR_PIN_LOCKED = 0xA4
_CKR_USER_ALREADY_LOGGED_IN = 0x100
_CKR_USER_PIN_NOT_INITIALIZED = 0x102
_CKR_TOKEN_NOT_PRESENT = 0xE0
_CKR_DEVICE_REMOVED = 0x32
_CKR_FUNCTION_CANCELED = 0x50


def _login_error(rv: int, token: Any) -> TokenError:
    if rv == _CKR_PIN_INCORRECT:
        return _pin_incorrect(token)
    if rv in (_CKR_PIN_INVALID, _CKR_PIN_LEN_RANGE):
        return _pin_incorrect(token, " (its length or characters are not accepted by the token)")
    if rv == _CKR_PIN_LOCKED:
        return TokenPinLockedError(
            "the PIN is locked: unblock it with the PUK / SO PIN before signing"
        )
    if rv == _CKR_PIN_EXPIRED:
        return TokenError("the PIN has expired: change it before using the token")
    if rv == _CKR_USER_ALREADY_LOGGED_IN:
        return TokenError(
            "the token is already logged in by other code in this process;"
            " qcertlib cannot check the PIN: close that session first"
        )
    if rv == _CKR_USER_PIN_NOT_INITIALIZED:
        return TokenError("the user PIN of this token is not initialised")
    if rv in (_CKR_TOKEN_NOT_PRESENT, _CKR_DEVICE_REMOVED):
        return TokenNotPresentError("the token was removed while logging in")
    if rv == _CKR_FUNCTION_CANCELED:
        return TokenError("the PIN entry was cancelled")
    return TokenError("the token refused the login")


class _Login:
    """One C_Login per (module, token) in this process, shared by reference count."""

    __slots__ = ("fingerprint", "logout", "refs", "session")

    def __init__(self, session: Any, fingerprint: bytes, logout: Any) -> None:
        self.session = session
        self.fingerprint = fingerprint
        self.logout = logout
        self.refs = 1


_FP_KEY = secrets.token_bytes(32)  # per-process key: a fingerprint is useless outside


def _fingerprint(pin: object) -> bytes:
    if not isinstance(pin, str):  # PROTECTED_AUTH: the PIN pad checks it
        return b"protected-authentication-path"
    return hmac.new(_FP_KEY, pin.encode("utf-8"), hashlib.sha256).digest()


class _LoginRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logins: dict[tuple[str, int, bytes], _Login] = {}

    def acquire(self, lib: Any, token: Any, pin: object) -> tuple[LoginHandle, bool]:
        """Log in (or share an existing login); returns the handle and whether C_Login ran."""
        key = (str(lib.so), int(token.slot.slot_id), bytes(token.serial))
        fp = _fingerprint(pin)
        pkcs11 = p11()
        with self._lock:
            login = self._logins.get(key)
            if login is not None:
                if not hmac.compare_digest(login.fingerprint, fp):
                    raise TokenPinIncorrectError(
                        "the PIN is incorrect: it differs from the PIN this process is"
                        " already logged in to the token with"
                    )
                login.refs += 1
                return LoginHandle(self, key), False
            state = pin_state(token)
            if state.locked:
                raise TokenPinLockedError(
                    "the PIN is locked: unblock it with the PUK / SO PIN before signing"
                )
            try:
                session = token.open()  # a plain session; C_Login below, so a wrong PIN
            except pkcs11.exceptions.PKCS11Error as exc:  # leaves no session behind
                raise token_error(exc, what="opening a session", token=token) from None
            login_fn, logout_fn = _raw_functions(str(lib.so))
            raw_pin = pin.encode("utf-8") if isinstance(pin, str) else None
            rv = login_fn(int(session.handle), _CKU_USER, raw_pin, len(raw_pin or b""))
            if rv != 0:
                with contextlib.suppress(pkcs11.exceptions.PKCS11Error):
                    session.close()
                raise _login_error(int(rv), token)
            self._logins[key] = _Login(session, fp, logout_fn)
            return LoginHandle(self, key), True

    def release(self, key: tuple[str, int, bytes]) -> None:
        with self._lock:
            login = self._logins.get(key)
            if login is None:
                return
            login.refs -= 1
            if login.refs > 0:
                return
            del self._logins[key]
            login.logout(int(login.session.handle))  # the token may be gone: ignore rv
            with contextlib.suppress(p11().exceptions.PKCS11Error):
                login.session.close()


_REGISTRY = _LoginRegistry()


class LoginHandle:
    """A reference to a shared login; :meth:`release` exactly once."""

    __slots__ = ("_key", "_registry")

    def __init__(self, registry: _LoginRegistry, key: tuple[str, int, bytes]) -> None:
        self._registry: _LoginRegistry | None = registry
        self._key = key

    def release(self) -> None:
        """Drop this reference; the last one logs out."""
        if self._registry is not None:
            self._registry.release(self._key)
            self._registry = None


def login(lib: Any, token: Any, pin: object) -> tuple[LoginHandle, bool]:
    """Log in to *token* with *pin* once per process (see the module docstring)."""
    return _REGISTRY.acquire(lib, token, pin)
