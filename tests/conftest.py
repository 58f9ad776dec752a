"""Shared fixtures: one app per test session, each test inside a rolled-back transaction.

TEST_DATABASE_URL=postgresql+psycopg://user@host/db switches to PostgreSQL: the run creates
two databases of its own (console and target) next to that one and drops them at the end.
TEST_TARGET_DATABASE_URL=mysql+pymysql://user@host/db puts the target databases on MariaDB
(or MySQL) instead, created and dropped the same way.
"""
from __future__ import annotations

import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from console import create_app
from console.migrations import create_target_schema, upgrade_console
from tests.security._strategies import seed_description

pytest_plugins = ["console.tasks.testing"]  # run_task, preview_task, demo_shop, target_row for task tests


def pytest_report_header(config):
    """Name the fuzz tests' seed first thing, so that a failure in a CI log can be rerun as it was."""
    return seed_description()

def pytest_runtest_setup(item):
    """Skip `row_locks` tests when the target database is SQLite, which locks the whole file instead."""
    target = os.environ.get("TEST_TARGET_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if item.get_closest_marker("row_locks") and not target:
        pytest.skip("needs a target database with row locks: set TEST_TARGET_DATABASE_URL or TEST_DATABASE_URL")


DROPPERS = 8

TEST_PASSWORD = "correct horse battery staple"
TEST_AUDIT_KEY = "test-audit-key-" + "k" * 32


def _server_admin(url: str):
    return create_engine(url, isolation_level="AUTOCOMMIT")


def is_mysql(url: str | None) -> bool:
    return bool(url) and make_url(url).get_backend_name() in ("mysql", "mariadb")


def _quoted(url: str, name: str) -> str:
    return f"`{name}`" if is_mysql(url) else f'"{name}"'


class TestDatabases:
    """Creates fresh console and target databases (SQLite files, or PostgreSQL or MariaDB databases).

    The target is on TEST_TARGET_DATABASE_URL's server when it is set (e.g. MariaDB), else on
    TEST_DATABASE_URL's; the console database is on TEST_DATABASE_URL's, else SQLite. Only the
    databases a run created are dropped.
    """

    def __init__(self, folder):
        self.folder = folder
        self.base = os.environ.get("TEST_DATABASE_URL")
        self.target_base = os.environ.get("TEST_TARGET_DATABASE_URL") or self.base
        self.created: list[tuple[str, str]] = []  # (server URL, database name)

    def create(self) -> dict:
        folder = self.folder / uuid.uuid4().hex[:8]
        folder.mkdir()
        stem = f"sc_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        return {"console": self._make(self.base, f"{stem}_console", f"sqlite:///{folder}/console.db"),
                "target": self._make(self.target_base, f"{stem}_target", f"sqlite:///{folder}/shop.db")}

    def new_target(self) -> str:
        """The URL of one more brand-new, empty target database, dropped at the end of the run."""
        folder = self.folder / uuid.uuid4().hex[:8]
        folder.mkdir()
        return self._make(self.target_base, f"sc_test_{os.getpid()}_{uuid.uuid4().hex[:6]}_shop",
                          f"sqlite:///{folder}/shop.db")

    def _make(self, server: str | None, name: str, sqlite_url: str) -> str:
        if not server:
            return sqlite_url
        admin = _server_admin(server)
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {_quoted(server, name)}"))
            self.created.append((server, name))
        admin.dispose()
        return make_url(server).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        # PostgreSQL's DROP DATABASE waits for a checkpoint; drops sent at once share one. One at a time,
        # a PostgreSQL pass spent minutes at its end dropping its few hundred databases.
        for server in dict.fromkeys(server for server, _name in self.created):
            names = [name for made_on, name in self.created if made_on == server]
            force = "" if is_mysql(server) else " WITH (FORCE)"
            admin = create_engine(server, isolation_level="AUTOCOMMIT", pool_size=DROPPERS)

            def drop(name: str) -> None:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {_quoted(server, name)}{force}"))

            with ThreadPoolExecutor(DROPPERS) as pool:
                list(pool.map(drop, names))  # list(): a failed drop raises here
            admin.dispose()


@pytest.fixture(scope="session")
def test_databases(tmp_path_factory):
    databases = TestDatabases(tmp_path_factory.mktemp("db"))
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def database_urls(test_databases):
    """URLs of the console and target databases shared by this run's rolled-back tests."""
    return test_databases.create()


def config_for(database_urls, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "CONSOLE_AUDIT_KEY": TEST_AUDIT_KEY,
        "CONSOLE_DATABASE_URL": database_urls["console"],
        "TARGET_DATABASE_URL": database_urls["target"],
        "RATELIMIT_ENABLED": False,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def app(database_urls):
    app = create_app(config_for(database_urls))
    dbs = app.extensions["console_db"]
    upgrade_console(dbs.console_engine)
    create_target_schema(dbs.target_engine)
    yield app
    dbs.dispose()


@pytest.fixture
def isolated_app(test_databases):
    """Make an app on brand-new databases whose commits are real (concurrency, faults, CLI).

    isolated_app(**config_overrides) -> app; the databases are dropped at the end of the run.
    """
    made = []

    def make(**overrides):
        app = create_app(config_for(test_databases.create(), **overrides))
        dbs = app.extensions["console_db"]
        upgrade_console(dbs.console_engine)
        create_target_schema(dbs.target_engine)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["console_db"].dispose()


@pytest.fixture
def dbs(app):
    """Both databases, bound to outer transactions that are rolled back after the test.

    No app context stays pushed during the test: a request would reuse it, and with it `g`
    (the logged-in user, the CSRF token). Test code gets its own sessions on the same
    connections (`console_db`, `target_db`); wrap service calls that need the app in
    `with app.app_context():`, never a client call.
    """
    from tests import factories

    dbs = app.extensions["console_db"]
    console_conn = dbs.console_engine.connect()
    console_tx = console_conn.begin()
    target_conn = dbs.target_engine.connect()
    target_tx = target_conn.begin()
    dbs.bind(console_conn, target_conn, join_transaction_mode="create_savepoint")
    console_db, target_db = dbs.console_factory(), dbs.target_factory()
    factories.use_sessions(console_db, target_db)
    yield dbs
    factories.use_sessions(None, None)
    console_db.close()
    target_db.close()
    console_tx.rollback()
    target_tx.rollback()
    console_conn.close()
    target_conn.close()
    dbs.bind(dbs.console_engine, dbs.target_engine, join_transaction_mode="conservative_savepoint")


@pytest.fixture
def console_db(dbs):
    from tests import factories

    return factories.SESSIONS["console"]


@pytest.fixture
def target_db(dbs):
    from tests import factories

    return factories.SESSIONS["target"]


@pytest.fixture
def client(app, dbs):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|name="csrf-token" content="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class AuthActions:
    """Log in and out through the real forms, CSRF token included."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = TEST_PASSWORD):
        page = self.client.get("/login")
        token = csrf_token_from(page.get_data(as_text=True))
        return self.client.post("/login", data={"email": email, "password": password, "csrf_token": token})

    def csrf(self, path: str = "/admin/") -> str:
        return csrf_token_from(self.client.get(path).get_data(as_text=True))

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf()})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def make_user(dbs):
    """Create a staff user with TEST_PASSWORD: make_user('agent') or make_user('lead', email=...)."""
    from tests.factories import StaffUserFactory

    def make(role: str = "agent", **fields):
        return StaffUserFactory(role=role, **fields)

    return make


@pytest.fixture
def login_as(auth, make_user):
    """Create a user of the role and log the test client in as them."""

    def login(role: str = "agent", **fields):
        user = make_user(role, **fields)
        response = auth.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return login


@pytest.fixture
def api_token(console_db, make_user):
    """Create a user of the role and return (user, bearer headers)."""
    from console.auth.services import create_token

    def make(role: str = "agent", **fields):
        user = make_user(role, **fields)
        token = create_token(console_db, user, "test")
        return user, {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def webhook_outbox(app, console_db, monkeypatch):
    """Turn webhooks on for this test; webhook_outbox() -> [(kind, text)] of the messages queued, oldest first."""
    import json

    from sqlalchemy import select

    from console.webhooks.models import WebhookMessage

    monkeypatch.setitem(app.config, "WEBHOOK_URL", "https://chat.example.com/services/hook")

    def read() -> list[tuple[str, str]]:
        console_db.expire_all()
        rows = console_db.scalars(select(WebhookMessage).order_by(WebhookMessage.id))
        return [(row.kind, json.loads(row.body)["text"]) for row in rows]

    return read
