"""Failed logins are rate-limited per account and per address, in memory or in Redis."""
import uuid

import pytest
import redis

from tests.conftest import TEST_PASSWORD, csrf_token_from
from tests.committed import make_committed_user

REDIS_URL = "redis://127.0.0.1:6379/0"


def _user(app, email):
    make_committed_user(app, "agent", email=email)


def _attempt(client, email, password, address="10.0.0.1", headers=None):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address}, headers=headers or {})


def _exhaust_account(app, email):
    client = app.test_client()
    statuses = [_attempt(client, email, "wrong password!", address=f"10.0.1.{n}").status_code for n in range(21)]
    return statuses, client


def test_failed_logins_per_account_are_limited_in_memory(isolated_app):
    app = isolated_app(RATELIMIT_ENABLED=True, CONSOLE_RATELIMIT_STORAGE_URI="memory://")
    _user(app, "target@example.com")
    statuses, client = _exhaust_account(app, "target@example.com")
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429
    # the right password is refused too while the account is limited: that is the point
    assert _attempt(client, "target@example.com", TEST_PASSWORD, address="10.0.9.9").status_code == 429
    # another account from another address is unaffected
    _user(app, "other@example.com")
    assert _attempt(client, "other@example.com", TEST_PASSWORD, address="10.0.9.8").status_code == 302


def test_failed_logins_per_address_are_limited(isolated_app):
    app = isolated_app(RATELIMIT_ENABLED=True, CONSOLE_RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    statuses = [_attempt(client, f"nobody{n}@example.com", "wrong password!").status_code for n in range(61)]
    assert statuses[:60] == [401] * 60 and statuses[60] == 429


def _fail_logins(client, forwarded_for: list[str]):
    """Failed logins from the proxy's socket, each with its X-Forwarded-For; their statuses."""
    return [_attempt(client, f"nobody{n}@example.com", "wrong password!", address="10.0.0.1",
                     headers={"X-Forwarded-For": value}).status_code for n, value in enumerate(forwarded_for)]


def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(isolated_app):
    app = isolated_app(RATELIMIT_ENABLED=True, CONSOLE_RATELIMIT_STORAGE_URI="memory://", TRUSTED_PROXIES=1)
    client = app.test_client()
    # Every request comes from the proxy's socket (10.0.0.1); the proxy says who the client was.
    assert _fail_logins(client, ["203.0.113.5"] * 61) == [401] * 60 + [429]
    assert _fail_logins(client, ["198.51.100.7"]) == [401]
    # A client cannot pick its bucket: with one trusted proxy only the address that proxy appended counts.
    assert _fail_logins(client, ["198.51.100.99, 203.0.113.5"]) == [429]


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_limit(isolated_app):
    app = isolated_app(RATELIMIT_ENABLED=True, CONSOLE_RATELIMIT_STORAGE_URI="memory://")
    forged = _fail_logins(app.test_client(), [f"192.0.2.{n}" for n in range(61)])
    assert forged == [401] * 60 + [429]


def test_successful_logins_are_not_counted(isolated_app):
    app = isolated_app(RATELIMIT_ENABLED=True, CONSOLE_RATELIMIT_STORAGE_URI="memory://")
    _user(app, "often@example.com")
    client = app.test_client()
    for _ in range(25):
        assert _attempt(client, "often@example.com", TEST_PASSWORD).status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/admin/").get_data(as_text=True))})


def test_limits_are_shared_through_redis_between_app_instances(isolated_app):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        pytest.fail("Redis must run on 127.0.0.1:6379 for this test (.ci/run starts it)")
    prefix = f"sc-test-{uuid.uuid4().hex[:8]}"
    settings = dict(RATELIMIT_ENABLED=True, CONSOLE_RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
    first = isolated_app(**settings)
    _user(first, "shared@example.com")
    try:
        statuses, _ = _exhaust_account(first, "shared@example.com")
        assert statuses[20] == 429
        # a second process (here: a second app on the same Redis) sees the same count
        second = isolated_app(**settings)
        assert _attempt(second.test_client(), "shared@example.com", "wrong password!",
                        address="10.0.7.7").status_code == 429
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
