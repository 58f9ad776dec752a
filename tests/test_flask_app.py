"""The console's Flask class: what it sets up once per process, and that sessions are still checked every request."""
import time
from datetime import timedelta

from flask import Flask, session

from console import flask_app
from console.flask_app import OPENED_LIMIT, SYNC_CACHE_LIMIT, ConsoleFlask


def small_app(secret: str = "first-secret-key", fallbacks=()) -> ConsoleFlask:
    app = ConsoleFlask(__name__)
    app.config.update(SECRET_KEY=secret, SECRET_KEY_FALLBACKS=list(fallbacks))

    @app.post("/sign-in")
    def sign_in():
        session["who"] = "ann"
        return "ok"

    @app.get("/who")
    def who():
        return session.get("who", "nobody")

    @app.post("/note")
    def note():
        session["notes"] = ["first"]
        return "ok"

    @app.get("/notes")
    def notes():
        shown = list(session.get("notes", []))
        session.get("notes", []).append("added in place")  # as flash() adds to the stored list
        return ",".join(shown)

    return app


def signed_in_client(app):
    client = app.test_client()
    assert client.post("/sign-in").status_code == 200
    assert client.get("/who").text == "ann"
    return client


def test_the_cookie_signer_is_built_once_per_key_set():
    app = small_app()
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    app.secret_key = "second-secret-key"
    assert interface.get_signing_serializer(app) is not first


def test_a_new_secret_refuses_the_old_cookie_on_the_next_request():
    app = small_app()
    client = signed_in_client(app)
    app.secret_key = "second-secret-key"  # as a restart with a rotated key does
    assert client.get("/who").text == "nobody"
    app.config["SECRET_KEY_FALLBACKS"] = ["first-secret-key"]  # unless the old key is kept as a fallback
    assert client.get("/who").text == "ann"


def test_a_tampered_cookie_is_refused():
    app = small_app()
    client = signed_in_client(app)
    cookie = client.get_cookie("session")
    forged = cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB")
    client.set_cookie("session", forged)
    assert client.get("/who").text == "nobody"


def test_plain_functions_are_checked_once_and_coroutines_still_wrapped():
    app = small_app()

    def hook():
        return None

    async def coroutine():
        return None

    assert app.ensure_sync(hook) is hook and app.ensure_sync(hook) is hook
    try:
        wrapped = app.ensure_sync(coroutine)
    except RuntimeError:  # Flask without its async extra refuses async functions, as it always did
        return
    assert wrapped is not coroutine


def test_a_bound_method_is_checked_once_and_an_async_one_still_wrapped():
    app = small_app()

    class Hooks:
        def plain(self):
            return None

        async def coroutine(self):
            return None

    hooks = Hooks()
    first = app.ensure_sync(hooks.plain)
    assert first == hooks.plain and app.ensure_sync(hooks.plain) is first  # a new bound method, found
    other = Hooks()
    assert app.ensure_sync(other.plain).__self__ is other  # another object's method is never given the first's
    try:
        wrapped = app.ensure_sync(hooks.coroutine)
    except RuntimeError:  # Flask without its async extra refuses async functions, as it always did
        return
    assert wrapped != hooks.coroutine and app.ensure_sync(hooks.coroutine) is wrapped


def test_an_unhashable_callable_is_still_checked():
    app = small_app()

    class Handler:
        __hash__ = None

        def __call__(self):
            return None

    handler = Handler()
    assert app.ensure_sync(handler) is handler


def test_functions_made_per_request_do_not_grow_the_memo_without_bound():
    app = small_app()
    for n in range(SYNC_CACHE_LIMIT + 50):
        app.ensure_sync(eval(f"lambda: {n}"))  # new function objects, as after_this_request's closures are
    assert 0 < len(app._synchronous) <= SYNC_CACHE_LIMIT


def test_a_request_without_a_cookie_has_an_empty_session():
    assert small_app().test_client().get("/who").text == "nobody"


def test_a_cookie_accepted_before_is_refused_once_older_than_the_lifetime(monkeypatch):
    app = small_app()
    app.permanent_session_lifetime = timedelta(hours=1)
    client = signed_in_client(app)
    assert client.get("/who").text == "ann"  # the header is known now
    later = time.time() + 3601
    monkeypatch.setattr(flask_app.time, "time", lambda: later)
    assert client.get("/who").text == "nobody"


def test_a_cookie_signed_in_the_future_is_refused_as_itsdangerous_refuses_it(monkeypatch):
    app = small_app()
    client = signed_in_client(app)
    earlier = time.time() - 60  # the clock went back after the cookie was signed
    monkeypatch.setattr(flask_app.time, "time", lambda: earlier)
    assert client.get("/who").text == "nobody"


def test_a_changed_cookie_is_checked_anew_after_the_same_header_was_accepted():
    app = small_app()
    client = signed_in_client(app)
    cookie = client.get_cookie("session").value
    payload, _, rest = cookie.partition(".")
    client.set_cookie("session", payload + "." + rest[::-1])
    assert client.get("/who").text == "nobody"
    client.set_cookie("session", cookie)
    assert client.get("/who").text == "ann"


def test_a_session_holding_a_list_is_never_shared_between_requests():
    app = small_app()
    client = app.test_client()
    assert client.post("/note").status_code == 200
    for _ in range(3):  # each request opens the cookie as it was sent, whatever the one before did to its copy
        assert client.get("/notes").text == "first"


def test_the_remembered_headers_stay_bounded():
    app = small_app()
    client = signed_in_client(app)
    cookie = client.get_cookie("session").value
    for n in range(OPENED_LIMIT + 10):  # the same valid cookie among other cookies: each header is new
        client.set_cookie(f"other{n}", "x")
        assert client.get("/who").text == "ann"
        client.delete_cookie(f"other{n}")
    assert client.get_cookie("session").value == cookie
    assert 0 < len(app.session_interface._opened) <= OPENED_LIMIT


def _session_headers(app_class) -> list[tuple]:
    """(Set-Cookie sent?, the Vary header) for each kind of request, on an app of `app_class`."""
    app = app_class(__name__)
    app.config.update(SECRET_KEY="headers-secret-key")

    @app.post("/sign-in")
    def sign_in():
        session["who"] = "ann"
        session.permanent = "permanent" in app.config
        return "ok"

    app.add_url_rule("/who", "who", lambda: session.get("who", "nobody"))
    app.add_url_rule("/nothing", "nothing", lambda: "no session here")
    app.add_url_rule("/out", "out", lambda: session.clear() or "out", methods=["POST"])
    seen = []
    for permanent in (False, True):
        if permanent:
            app.config["permanent"] = True
        client = app.test_client()
        for method, path in (("post", "/sign-in"), ("get", "/who"), ("get", "/who"), ("get", "/nothing"),
                             ("post", "/out"), ("get", "/who")):
            response = getattr(client, method)(path)
            seen.append((permanent, path, "Set-Cookie" in response.headers, response.headers.get("Vary")))
    return seen


def test_responses_carry_the_cookie_and_vary_headers_flask_sends():
    # The unchanged session's shortcut: a cookie only when Flask would send one (a change, a permanent session
    # refreshed on each request, a cleared one deleted), and Vary: Cookie whenever the session was read.
    assert _session_headers(ConsoleFlask) == _session_headers(Flask)
    assert (False, "/who", False, "Cookie") in _session_headers(ConsoleFlask)
    assert (True, "/who", True, "Cookie") in _session_headers(ConsoleFlask)
