"""Token management: list the tokens of a module, initialise a new token.

:func:`init_token` uses the standard ``C_InitToken`` (then ``C_InitPIN`` as the
security officer), so it works for any module that lets software initialise a
token — SoftHSM2 always offers one free, uninitialised slot for that. Real cards
are personalised by their issuer and usually refuse it.
"""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass
from typing import Any

from qcertlib.errors import TokenError
from qcertlib.tokens import _p11

__all__ = ["TokenInfo", "init_token", "list_tokens"]

_MIN_PIN = 4


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a slot's token says about itself (``CK_TOKEN_INFO``)."""

    slot_id: int
    label: str
    serial: str
    manufacturer: str
    model: str
    initialized: bool
    user_pin_initialized: bool
    login_required: bool
    protected_authentication_path: bool
    write_protected: bool
    pin_count_low: bool
    pin_final_try: bool
    pin_locked: bool

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict."""
        return {
            "slot_id": self.slot_id,
            "label": self.label,
            "serial": self.serial,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "initialized": self.initialized,
            "user_pin_initialized": self.user_pin_initialized,
            "login_required": self.login_required,
            "protected_authentication_path": self.protected_authentication_path,
            "write_protected": self.write_protected,
            "pin_count_low": self.pin_count_low,
            "pin_final_try": self.pin_final_try,
            "pin_locked": self.pin_locked,
        }


def _info(slot: Any, token: Any) -> TokenInfo:
    flags = int(token.flags)
    return TokenInfo(
        slot_id=int(slot.slot_id),
        label=str(token.label),
        serial=bytes(token.serial).decode("ascii", "replace"),
        manufacturer=str(token.manufacturer_id),
        model=str(token.model),
        initialized=bool(flags & _p11.CKF_TOKEN_INITIALIZED),
        user_pin_initialized=bool(flags & _p11.CKF_USER_PIN_INITIALIZED),
        login_required=bool(flags & _p11.CKF_LOGIN_REQUIRED),
        protected_authentication_path=bool(flags & _p11.CKF_PROTECTED_AUTHENTICATION_PATH),
        write_protected=bool(flags & _p11.CKF_WRITE_PROTECTED),
        pin_count_low=bool(flags & _p11.CKF_USER_PIN_COUNT_LOW),
        pin_final_try=bool(flags & _p11.CKF_USER_PIN_FINAL_TRY),
        pin_locked=bool(flags & _p11.CKF_USER_PIN_LOCKED),
    )


def list_tokens(module: str | os.PathLike[str]) -> list[TokenInfo]:
    """Every slot with a token present, initialised or not, in slot order."""
    lib = _p11.load_module(module)
    pkcs11 = _p11.p11()
    try:
        return [_info(slot, slot.get_token()) for slot in lib.get_slots(token_present=True)]
    except pkcs11.exceptions.PKCS11Error as exc:
        raise _p11.token_error(exc, what="listing the tokens") from None


_INIT_LOCK = threading.Lock()


def _c_init_token(module_path: str, slot_id: int, so_pin: str, label: str) -> int:
    """Call ``C_InitToken`` (python-pkcs11 does not wrap it) on the already initialised
    module: ``dlopen`` returns the same handle, so the call shares its state."""
    dll = ctypes.CDLL(module_path)
    func = dll.C_InitToken
    func.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    func.restype = ctypes.c_ulong
    pin = so_pin.encode("utf-8")
    padded = label.encode("utf-8").ljust(32, b" ")
    rv: int = func(slot_id, pin, len(pin), padded)
    return rv


_CKR_PIN_INCORRECT = 0xA0
_CKR_PIN_LOCKED = 0xA4
_CKR_SESSION_EXISTS = 0xB6
_CKR_TOKEN_WRITE_PROTECTED = 0xE2
_CKR_PIN_LEN_RANGE = 0xA2


def init_token(
    module: str | os.PathLike[str], *, label: str, so_pin: str, user_pin: str
) -> TokenInfo:
    """Initialise a new token on the first free (uninitialised) slot and set its user PIN.

    Refuses a label that an initialised token already has, PINs shorter than 4
    characters and a module without a free slot
    (:class:`~qcertlib.errors.TokenError`). Returns the new token's info.
    """
    if not label or len(label.encode("utf-8")) > 32:
        raise ValueError("the token label must be 1..32 bytes of UTF-8")
    if len(so_pin) < _MIN_PIN or len(user_pin) < _MIN_PIN:
        raise TokenError(f"the SO PIN and the user PIN must have at least {_MIN_PIN} characters")
    lib = _p11.load_module(module)
    pkcs11 = _p11.p11()
    with _INIT_LOCK:
        tokens = list_tokens(module)
        if any(t.initialized and t.label == label for t in tokens):
            raise TokenError(f"a token labelled {label!r} already exists")
        free = [t for t in tokens if not t.initialized]
        if not free:
            raise TokenError("the module has no free slot to initialise a token in")
        rv = _c_init_token(str(lib.so), free[0].slot_id, so_pin, label)
        if rv == _CKR_PIN_INCORRECT:
            raise TokenError("the SO PIN is incorrect")
        if rv == _CKR_PIN_LOCKED:
            raise TokenError("the SO PIN is locked")
        if rv == _CKR_SESSION_EXISTS:
            raise TokenError("the slot has open sessions: close them before initialising")
        if rv == _CKR_PIN_LEN_RANGE:
            raise TokenError("the token does not accept a SO PIN of that length")
        if rv != 0:
            raise TokenError("the module refused to initialise a token in the free slot")
        token = _p11.find_token(lib, label=label, serial=None)
        try:
            with token.open(rw=True, so_pin=so_pin) as session:
                session.init_pin(user_pin)
        except pkcs11.exceptions.PKCS11Error as exc:
            raise _p11.token_error(exc, what="setting the user PIN", token=token) from None
        token = _p11.find_token(lib, label=label, serial=None)
        return _info(token.slot, token)
