"""Parallel RSA PKCS#1 v1.5 signing through the system libcrypto (private, opt-in).

``cryptography`` holds the GIL while it computes an RSA signature, so a process
signs on one core however many threads call it. Foreign calls made with
:mod:`ctypes` release the GIL: this module loads the key once into the system
OpenSSL (``libcrypto``) and signs pre-hashed digests from several threads at once,
in the calling process (the key never goes to a worker). The batch uses it only
when asked (``BatchSigner(sign_threads=N)``), only for an in-memory RSA key with
PKCS#1 v1.5, and only after its signature of the probe digest is byte-identical to
the backend's (RSA PKCS#1 v1.5 is deterministic); every signature is also verified
against the certificate when its document is finished.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from qcertlib.signing.backends import SignatureMechanism, SoftwareKeyBackend
from qcertlib.signing.options import DigestAlgorithm

__all__ = ["NativeRsaSigner"]

_RSA_PKCS1_PADDING = 1
_lock = threading.Lock()
_lib: Any = None


def _libcrypto() -> Any:
    global _lib
    with _lock:
        if _lib is None:
            name = ctypes.util.find_library("crypto")
            if name is None:
                raise OSError("libcrypto not found")
            lib = ctypes.CDLL(name)
            vp, sz = ctypes.c_void_p, ctypes.c_size_t
            lib.d2i_AutoPrivateKey.restype = vp
            lib.d2i_AutoPrivateKey.argtypes = [vp, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long]
            lib.EVP_PKEY_free.argtypes = [vp]
            lib.EVP_PKEY_CTX_new.restype = vp
            lib.EVP_PKEY_CTX_new.argtypes = [vp, vp]
            lib.EVP_PKEY_CTX_free.argtypes = [vp]
            lib.EVP_PKEY_sign_init.argtypes = [vp]
            lib.EVP_PKEY_CTX_set_rsa_padding.argtypes = [vp, ctypes.c_int]
            lib.EVP_PKEY_CTX_set_signature_md.argtypes = [vp, vp]
            lib.EVP_get_digestbyname.restype = vp
            lib.EVP_get_digestbyname.argtypes = [ctypes.c_char_p]
            lib.EVP_PKEY_sign.argtypes = [
                vp,
                ctypes.c_char_p,
                ctypes.POINTER(sz),
                ctypes.c_char_p,
                sz,
            ]
            _lib = lib
    return _lib


class NativeRsaSigner:
    """An RSA key loaded into the system libcrypto; :meth:`sign` releases the GIL."""

    __slots__ = ("_contexts", "_lib", "_local", "_pkey", "_size")

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        lib = _libcrypto()
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        buf = ctypes.c_char_p(der)
        pkey = lib.d2i_AutoPrivateKey(None, ctypes.byref(buf), len(der))
        if not pkey:
            raise OSError("libcrypto could not load the key")
        self._lib = lib
        self._pkey: Any = pkey
        self._size = key.key_size // 8 + 1
        self._local = threading.local()
        self._contexts: list[Any] = []

    @classmethod
    def for_backend(cls, backend: Any) -> NativeRsaSigner | None:
        """A native signer for a software RSA PKCS#1 v1.5 backend, else ``None``."""
        if not isinstance(backend, SoftwareKeyBackend):
            return None
        if backend.mechanism is not SignatureMechanism.RSA_PKCS1V15:
            return None
        key = backend._key  # same process: the key is re-loaded, never sent anywhere
        if not isinstance(key, rsa.RSAPrivateKey):
            return None
        try:
            return cls(key)
        except (OSError, AttributeError):
            return None

    def _context(self, algorithm: DigestAlgorithm) -> Any:
        """A signing context per thread and digest (OpenSSL 3 contexts are not shared
        between threads, and creating one per signature costs lock contention)."""
        contexts = getattr(self._local, "contexts", None)
        if contexts is None:
            contexts = self._local.contexts = {}
        ctx = contexts.get(algorithm)
        if ctx is None:
            lib = self._lib
            md = lib.EVP_get_digestbyname(algorithm.value.encode())
            ctx = lib.EVP_PKEY_CTX_new(self._pkey, None)
            if not ctx or not md:
                raise OSError("libcrypto: cannot create a signing context")
            if (
                lib.EVP_PKEY_sign_init(ctx) <= 0
                or lib.EVP_PKEY_CTX_set_rsa_padding(ctx, _RSA_PKCS1_PADDING) <= 0
                or lib.EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0
            ):
                lib.EVP_PKEY_CTX_free(ctx)
                raise OSError("libcrypto: cannot set up the RSA signature")
            contexts[algorithm] = ctx
            with _lock:
                self._contexts.append(ctx)
        return ctx

    def sign(self, digest: bytes, algorithm: DigestAlgorithm) -> bytes:
        """RSASSA-PKCS1-v1_5 over a pre-computed digest."""
        if not self._pkey:
            raise OSError("the native signer is closed")
        ctx = self._context(algorithm)
        out = ctypes.create_string_buffer(self._size)
        size = ctypes.c_size_t(self._size)
        if self._lib.EVP_PKEY_sign(ctx, out, ctypes.byref(size), digest, len(digest)) <= 0:
            raise OSError("libcrypto: RSA signature failed")
        return out.raw[: size.value]

    def sign_many(self, digests: Sequence[bytes], algorithm: DigestAlgorithm) -> list[bytes]:
        """Sign each digest, in order."""
        return [self.sign(d, algorithm) for d in digests]

    def close(self) -> None:
        """Free the contexts and the key in libcrypto (no signing may be in progress)."""
        with _lock:
            contexts, self._contexts = self._contexts, []
        for ctx in contexts:
            self._lib.EVP_PKEY_CTX_free(ctx)
        self._local = threading.local()
        if self._pkey:
            self._lib.EVP_PKEY_free(self._pkey)
            self._pkey = None

    def __repr__(self) -> str:
        return "NativeRsaSigner()"
