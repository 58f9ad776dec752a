"""The console's Flask class: what it sets up once per process, and that sessions are still checked every request."""
from flask import session

from console.flask_app import SYNC_CACHE_LIMIT, ConsoleFlask


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


def test_functions_made_per_request_do_not_grow_the_memo_without_bound():
    app = small_app()
    for n in range(SYNC_CACHE_LIMIT + 50):
        app.ensure_sync(eval(f"lambda: {n}"))  # new function objects, as after_this_request's closures are
    assert 0 < len(app._synchronous) <= SYNC_CACHE_LIMIT


def test_a_request_without_a_cookie_has_an_empty_session():
    assert small_app().test_client().get("/who").text == "nobody"
