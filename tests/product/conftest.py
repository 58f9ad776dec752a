"""A second product's target database, its starter package written by `product inspect`, and an app serving it."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from console import create_app
from console.auth.services import create_token, create_user
from console.db import console_session
from console.migrations import create_target_schema, upgrade_console
from console.product.cli import group
from tests.conftest import TEST_PASSWORD, config_for
from tests.product import saas


def inspect_into(url: str, folder, package: str):
    return CliRunner().invoke(group, ["inspect", "--url", url, "--package", package, "--out", str(folder)])


@pytest.fixture
def saas_product(test_databases, tmp_path, monkeypatch):
    """SimpleNamespace(app, urls, package, folder, headers(role)) over a freshly inspected SaaS database."""
    urls = test_databases.create()
    engine = create_engine(urls["target"])
    saas.build(engine)
    engine.dispose()
    package = f"saas_{uuid.uuid4().hex[:8]}"
    result = inspect_into(urls["target"], tmp_path, package)
    assert result.exit_code == 0, result.output
    monkeypatch.syspath_prepend(str(tmp_path))
    app = create_app(config_for(urls, PRODUCT_PACKAGE=package))
    dbs = app.extensions["console_db"]
    upgrade_console(dbs.console_engine)
    created = create_target_schema(dbs.target_engine, app.extensions["product"])
    tokens = {}

    def headers(role: str) -> dict:
        if role not in tokens:
            with app.app_context():
                user = create_user(console_session(), f"{role}@console.example", role, TEST_PASSWORD, actor="test")
                tokens[role] = (user.email, create_token(console_session(), user, "test"))
        return {"Authorization": f"Bearer {tokens[role][1]}"}

    yield SimpleNamespace(app=app, urls=urls, package=package, folder=tmp_path, headers=headers,
                          output=result.output, created=created, email=lambda role: tokens[role][0])
    dbs.dispose()
