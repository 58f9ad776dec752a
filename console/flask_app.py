"""The console's Flask class: the same framework, with two per-request costs paid once per process instead.

Both were paid by every request, a page or a bare JSON answer alike (counted with bench's calls suite):
- `ensure_sync`, asked of every hook, context processor and view (fifteen on a page), inspected each
  function for `async def` anew: about 110 Python calls a request.
- the session cookie's serializer and signer were rebuilt, and the signing key re-derived (an HMAC of the
  secret key and the salt), for every request: about 85 calls.
The cookie itself is still checked on every request exactly as Flask checks it (signature, age), and the
user it names is still loaded and checked on every request (console/auth/__init__.py): nothing about a
session's validity is remembered between requests.
"""
from __future__ import annotations

from types import FunctionType

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

DERIVED_KEYS_LIMIT = 64  # (secret key, salt) pairs: one app has its key and a few fallbacks
SYNC_CACHE_LIMIT = 1024  # functions: hooks and views are a few hundred; after_this_request makes new ones


class _Signer(TimestampSigner):
    """itsdangerous' timestamp signer whose derived key (a function of the secret key and salt) is computed once."""

    _derived: dict[tuple, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = (secret_key if secret_key is not None else self.secret_keys[-1], self.salt, self.key_derivation,
               self.digest_method)
        derived = self._derived.get(key)
        if derived is None:
            derived = super().derive_key(secret_key)
            if len(self._derived) >= DERIVED_KEYS_LIMIT:
                self._derived.clear()
            self._derived[key] = derived
        return derived


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with one serializer per set of secret keys."""

    def __init__(self):
        self._serializers: dict[tuple, URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        # Flask's own order: the fallbacks, then the current key (itsdangerous signs with the last).
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = URLSafeTimedSerializer(
                list(keys), salt=self.salt, serializer=self.serializer, signer=_Signer,
                signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method})
            self._serializers = {keys: serializer}  # a changed key set replaces the old one
        return serializer


class ConsoleFlask(Flask):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.session_interface = SessionCookies()  # per app: apps in one process may have different keys
        self._synchronous: dict[FunctionType, object] = {}

    def ensure_sync(self, func):
        # Only plain functions are remembered: the app's hooks and views are a fixed set of them, whereas a
        # bound method may be made anew on each request. A closure given to after_this_request is new on
        # each request too, hence the limit.
        if type(func) is not FunctionType:
            return super().ensure_sync(func)
        synchronous = self._synchronous.get(func)
        if synchronous is None:
            if len(self._synchronous) >= SYNC_CACHE_LIMIT:
                self._synchronous.clear()
            synchronous = self._synchronous[func] = super().ensure_sync(func)
        return synchronous
