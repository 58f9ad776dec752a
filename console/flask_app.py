"""The console's Flask class: the same framework, with some per-request costs paid once per process instead.

Each was paid by every request, a page or a bare JSON answer alike (counted with bench's calls suite):
- `ensure_sync`, asked of every hook, context processor and view (fifteen on a page), inspected each
  function for `async def` anew: about 110 Python calls a request.
- the session cookie's serializer and signer were rebuilt, and the signing key re-derived (an HMAC of the
  secret key and the salt), for every request: about 85 calls.
- the session cookie was parsed out of the Cookie header, its signature checked (an HMAC) and its payload
  decoded (base64, JSON, Flask's tags) on every request: about 200 calls. A Cookie header whose session cookie
  passed that check is remembered with what it decoded to, so the same header sent again skips the work,
  but not the check of the signature's age, which is made on every request as itsdangerous makes it. Only
  headers that verified are kept, keyed by their exact text: no other header, no changed cookie and no
  cookie signed with another key can match one. The user the session names is still loaded and checked on
  every request (console/auth/__init__.py).
- a response whose session did not change still had the cookie's settings worked out: about 30 calls.
"""
from __future__ import annotations

import time
from types import FunctionType, MethodType

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

DERIVED_KEYS_LIMIT = 64  # (secret key, salt) pairs: one app has its key and a few fallbacks
REMEMBERED = (FunctionType, MethodType)  # what ensure_sync keeps its answer for
SYNC_CACHE_LIMIT = 1024  # functions: hooks and views are a few hundred; after_this_request makes new ones
OPENED_LIMIT = 2048  # Cookie headers: one per signed-in browser and minute (the session's seen_at)
OPENED_HEADER_LIMIT = 4096  # characters: a longer Cookie header is checked anew each time, never kept
# Values that a session can share with the next one opened from the same header: a copy of the dict is
# then a copy of the session. A session holding anything else (flash messages are a list) is not kept.
SHAREABLE = frozenset({str, int, float, bool, type(None)})


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
        # Cookie header -> (when its session cookie was signed, what it decoded to), for the serializer in
        # _serializers: a changed key set starts afresh.
        self._opened: dict[str, tuple[int, dict]] = {}

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
            self._opened = {}
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        header = request.environ.get("HTTP_COOKIE")
        if not header:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        opened = self._opened.get(header)
        if opened is not None:
            signed_at, data = opened
            # itsdangerous' own test of age (TimestampSigner.unsign), made against the clock as it reads it.
            age = int(time.time()) - signed_at
            if age > max_age or age < 0:
                return self.session_class()
            return self.session_class(data)
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        try:
            data, signed = serializer.loads(cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if len(header) <= OPENED_HEADER_LIMIT and all(type(value) in SHAREABLE for value in data.values()):
            if len(self._opened) >= OPENED_LIMIT:
                self._opened.clear()
            self._opened[header] = (int(signed.timestamp()), data)
        return self.session_class(data)

    def save_session(self, app: Flask, session, response) -> None:
        # Flask works out the cookie's seven settings (each a read of the config) before it asks whether there
        # is anything to send; on most pages there is not, and only the Vary header is owed.
        if not session.modified and not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


class ConsoleFlask(Flask):
    # The templates are a fixed set: a plain dict finds one without Jinja's LRU cache, which takes a lock and
    # scans its queue on every lookup (4% of a list page's time under gunicorn's eight threads).
    jinja_options = {"cache_size": -1}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.session_interface = SessionCookies()  # per app: apps in one process may have different keys
        self._synchronous: dict[FunctionType | MethodType, object] = {}

    def ensure_sync(self, func):
        # Plain functions and bound methods are remembered: the app's hooks and views are a fixed set of them
        # (a method made anew for the same object and function is equal to the one remembered, so it is
        # found). A closure given to after_this_request is new on each request, hence the limit.
        try:
            synchronous = self._synchronous.get(func)
        except TypeError:  # a callable object that cannot be a key
            return super().ensure_sync(func)
        if synchronous is None:
            if type(func) not in REMEMBERED:
                return super().ensure_sync(func)
            if len(self._synchronous) >= SYNC_CACHE_LIMIT:
                self._synchronous.clear()
            synchronous = self._synchronous[func] = super().ensure_sync(func)
        return synchronous
