"""The indexes behind substring search: named by `product check`, made by `product index` (never by `init` for
a real product), required by the query layer, and used by each database's plan."""
from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from admin_tasks.shop.schema import Customer
from console import create_app
from console.auth.services import create_token, create_user
from console.db import console_session
from console.migrations import create_target_schema, upgrade_console
from console.product import search_index
from console.product.cli import group
from console.product.queries import phases
from console.product.schema import product_schema
from tests.conftest import TEST_PASSWORD, config_for

SEARCHED = '''from console.product import Record, mask

RECORDS = [
    Record("accounts", exact=["id", "email"], substring=["full_name"], personal={"email": mask.email,
           "full_name": mask.name, "phone": mask.phone}),
]
'''
UNINDEXED_EXACT = '''from console.product import Record

RECORDS = [Record("accounts", exact=["company"])]
'''


def _package(folder, source: str) -> str:
    name = f"searched_{uuid.uuid4().hex[:8]}"
    (folder / name).mkdir()
    (folder / name / "__init__.py").write_text(source)
    return name


def _serve(saas_product, package: str):
    """An app serving `package` over the SaaS database, and an agent's API headers."""
    app = create_app(config_for(saas_product.urls, PRODUCT_PACKAGE=package))
    with app.app_context():
        user = create_user(console_session(), f"agent.{uuid.uuid4().hex[:6]}@console.example", "agent", TEST_PASSWORD,
                           actor="test")
        token = create_token(console_session(), user, "test")
    return app, {"Authorization": f"Bearer {token}"}


def _cli(*args):
    return CliRunner().invoke(group, list(args))


def test_another_product_gets_its_search_indexes_only_when_asked(saas_product):
    name = _package(saas_product.folder, SEARCHED)
    url = saas_product.urls["target"]
    app, headers = _serve(saas_product, name)
    engine = app.extensions["console_db"].target_engine
    assert create_target_schema(engine, app.extensions["product"]) is False  # `init` leaves the product alone
    assert [index.name for index in search_index.missing(engine, app.extensions["product"])] == [
        "sc_trgm_accounts_full_name"]

    checked = _cli("check", "--url", url, "--package", name)
    assert checked.exit_code == 1
    assert (f"{name}: accounts: substring: no substring index on 'accounts'.'full_name' "
            "(`support-console product index` makes sc_trgm_accounts_full_name)") in checked.output
    refused = app.test_client().get("/api/v1/records/accounts?q=client1", headers=headers)
    assert refused.status_code == 503 and "'full_name'" in refused.get_json()["error"]["message"]

    planned = _cli("index", "--url", url, "--package", name, "--dry-run")
    assert planned.exit_code == 0 and "would create sc_trgm_accounts_full_name on accounts" in planned.output
    assert _cli("check", "--url", url, "--package", name).exit_code == 1

    made = _cli("index", "--url", url, "--package", name)
    assert made.exit_code == 0, made.output
    assert f"{name}: accounts.full_name: " in made.output and "sc_trgm_accounts_full_name on accounts" in made.output
    assert _cli("check", "--url", url, "--package", name).exit_code == 0
    assert "every substring search key has its index" in _cli("index", "--url", url, "--package", name).output
    found = app.test_client().get("/api/v1/records/accounts?q=client1", headers=headers)
    assert found.status_code == 200, found.get_data(as_text=True)
    assert [item["key"] for item in found.get_json()["items"]] == [1] + list(range(10, 20))
    app.extensions["console_db"].dispose()


def test_a_search_on_a_column_no_index_leads_with_never_reaches_the_database(saas_product):
    name = _package(saas_product.folder, UNINDEXED_EXACT)
    app, headers = _serve(saas_product, name)
    refused = app.test_client().get("/api/v1/records/accounts?q=Firm 1", headers=headers)
    assert refused.status_code == 503
    assert "'exact'" in refused.get_json()["error"]["message"] and "'company'" in refused.get_json()["error"]["message"]
    assert app.test_client().get("/api/v1/records/accounts", headers=headers).status_code == 200  # listing is keyed
    checked = _cli("check", "--url", saas_product.urls["target"], "--package", name)
    assert checked.exit_code == 1 and "accounts: exact: no index on 'accounts' leads with 'company'" in checked.output
    app.extensions["console_db"].dispose()


@pytest.fixture
def big_shop(test_databases):
    """The demo shop with 20,001 customers committed and its statistics gathered."""
    app = create_app(config_for(test_databases.create()))
    dbs = app.extensions["console_db"]
    upgrade_console(dbs.console_engine)
    create_target_schema(dbs.target_engine, app.extensions["product"])
    when = datetime(2026, 1, 1)
    with dbs.target_engine.begin() as conn:
        conn.execute(insert(Customer.__table__), [
            {"id": n, "email": f"person.{n}@mail{n % 7}.example", "name": f"Person {n}", "phone": None,
             "status": "active", "email_confirmed": True, "failed_login_count": 0, "created_at": when,
             "updated_at": when} for n in range(1, 20_001)] + [
            {"id": 20_001, "email": "anna.weber.4990@mail.example", "name": "Anna Weber", "phone": None,
             "status": "active", "email_confirmed": True, "failed_login_count": 0, "created_at": when,
             "updated_at": when}])
    # As autovacuum would: statistics, and the rows written since the GIN index was built merged into it.
    with dbs.target_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name != "sqlite":
            conn.exec_driver_sql("VACUUM ANALYZE customers" if conn.dialect.name == "postgresql"
                                 else "ANALYZE TABLE customers")
    yield app
    dbs.dispose()


def test_each_database_answers_a_fragment_from_its_index(big_shop):
    reflected = product_schema(big_shop).record("customers")
    steps = phases(reflected, "weber.4990")
    number = [(step.kind, step.column) for step in steps].index(("substring", "email"))
    statement = reflected.statement(("phase", tuple((s.kind, s.column) for s in steps), number, False))
    values = {name: value for step in steps for name, value in step.params.items()}
    engine = big_shop.extensions["console_db"].target_engine
    with engine.connect() as conn:
        compiled = statement.compile(dialect=conn.dialect)
        bound = compiled.construct_params(values)
        driver_params = tuple(bound[name] for name in compiled.positiontup) if compiled.positional else bound
        dialect = conn.dialect.name
        explain = {"sqlite": "EXPLAIN QUERY PLAN ", "postgresql": "EXPLAIN "}.get(dialect, "EXPLAIN ")
        plan = [tuple(str(part) for part in row) for row in conn.exec_driver_sql(explain + compiled.string,
                                                                                 driver_params)]
        rows = conn.execute(statement, values).all()
    text = "\n".join(" ".join(row) for row in plan)
    assert [row[0] for row in rows] == [20_001]
    if dialect == "postgresql":
        assert "sc_trgm_customers_email" in text and "Seq Scan" not in text, text
    elif dialect == "sqlite":
        assert "sc_trgm_customers_email VIRTUAL TABLE INDEX" in text and "SCAN customers" not in text, text
    else:
        by_table = {row[2]: row[3] for row in plan}
        # A range of the side table's (suffix, key) primary key, then each candidate by its key.
        assert by_table["sc_trgm_customers_email"] == "range" and by_table["customers"] == "eq_ref", text


def test_the_trigram_index_is_asked_only_about_the_rarer_words():
    # 100 sampled emails: "mail" and "example" in 92, "kim" and "lee" in 4 each, "anna" in none.
    bounds = tuple(f"person.{n}@mail.example" for n in range(92))
    bounds += tuple(f"kim.{n}@post.test" for n in range(4)) + tuple(f"lee.{n}@post.test" for n in range(4))
    sample = search_index.Sample(common=(("x", 0.5),), bounds=bounds)
    assert sample.share("example") == 0.46 and sample.share("x") == 0.5 + 0.5 * 0.92  # ("person.N@mail.example")
    sample = search_index.Sample(bounds=bounds)
    # Every value holding the text holds its rare words in this order; a common word's trigrams are left out.
    assert search_index.narrowed("anna.lopez.4990@mail.example", sample) == "%lopez%"  # unseen: one is enough
    assert search_index.narrowed("kim.lee", sample) == "%kim.lee%"  # rare, not enough alone: the text itself
    assert search_index.narrowed("kim.lee@mail.example", sample) == "%kim%lee%"
    assert search_index.narrowed("mail.example", sample) == "%example%"  # all common: the rarest, then the longest
    assert search_index.narrowed("kim.lee@mail.example", search_index.Sample()) == "%kim.lee@mail.example%"


def test_on_postgresql_a_whole_email_narrows_the_index_scan_and_still_finds_only_it(big_shop):
    from console.lookup import listing

    engine = big_shop.extensions["console_db"].target_engine
    if engine.dialect.name != "postgresql":
        pytest.skip("the narrowed pattern is PostgreSQL's: its GIN scan reads every trigram's list of rows")
    reflected = product_schema(big_shop).record("customers")
    email = "anna.weber.4990@mail.example"
    steps = phases(reflected, email)
    number = [(step.kind, step.column) for step in steps].index(("substring", "email"))
    narrow = steps[number].params[f"p{number}_narrow"]
    # "example" and "mail" are in every row, "person" in all but one: the sample of ANALYZE says so.
    assert narrow not in (f"%{email}%",) and "example" not in narrow and "mail" not in narrow, narrow
    statement = reflected.statement(("phase", tuple((s.kind, s.column) for s in steps), number, False))
    values = {name: value for step in steps for name, value in step.params.items()}
    with engine.connect() as conn:
        compiled = statement.compile(dialect=conn.dialect)
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + compiled.string,
                                                                 compiled.construct_params(values)))
        index_cond = [line for line in plan.splitlines() if "Index Cond" in line]
        assert index_cond and all(narrow in line and email not in line for line in index_cond), plan
        found = listing.search(conn, reflected, email)
        assert [(phase.kind, row.id) for phase, row in found.found] == [("exact", 20_001)]
        near = listing.search(conn, reflected, "weber.4990@mail.exam")
        assert [(phase.kind, row.id) for phase, row in near.found] == [("substring", 20_001)]


def test_sqlite_matches_the_rarer_words_and_checks_the_whole_text_as_fts5_would():
    bounds = tuple(f"person.{n}@mail.example" for n in range(92)) + tuple(f"kim.{n}@post.test" for n in range(8))
    sample = search_index.Sample(bounds=bounds)
    params = search_index.params("Anna.Lopez.4990@mail.example", "sqlite", "p2", sample)
    assert params == {"p2_phrase": '"Lopez"', "p2_whole": '"Anna.Lopez.4990@mail.example"',
                      "p2_lowered": "anna.lopez.4990@mail.example"}
    # A word under three characters is no trigram: never a phrase of its own, still checked by the pattern.
    assert search_index.params("jo.kim@mail.example", "sqlite", "p2", sample)["p2_phrase"] == '"kim"'
    # lower() folds ASCII letters only: a text with another letter is matched whole, and nothing is filtered.
    assert search_index.params("éva.lopez@mail.example", "sqlite", "p2", sample) == {
        "p2_phrase": '"éva.lopez@mail.example"', "p2_whole": '"éva.lopez@mail.example"', "p2_lowered": ""}
    # Every letter Python's Unicode tables fold into ASCII, as FOLDING_INTO_ASCII lists them.
    folding = {char for char in map(chr, range(128, 0x110000))
               if any(part.isascii() for part in char.lower() + char.casefold() + char.upper().lower())}
    assert folding == set(search_index.FOLDING_INTO_ASCII)


def test_on_sqlite_a_whole_email_is_matched_on_its_rarer_words_and_finds_what_the_whole_phrase_finds(big_shop):
    from console.lookup import listing

    engine = big_shop.extensions["console_db"].target_engine
    if engine.dialect.name != "sqlite":
        pytest.skip("FTS5 reads every trigram's list of rows of a phrase; the other databases narrow their own way")
    when = datetime(2026, 1, 1)
    with engine.begin() as conn:  # the Kelvin sign: FTS5 folds it into "k", lower() does not
        conn.execute(insert(Customer.__table__), [
            {"id": 20_002, "email": "anna.\u212aim.4990@mail.example", "name": "Anna Kim", "phone": None,
             "status": "active", "email_confirmed": True, "failed_login_count": 0, "created_at": when,
             "updated_at": when}])
    reflected = product_schema(big_shop).record("customers")
    email = "anna.weber.4990@mail.example"
    steps = phases(reflected, email)
    number = [(step.kind, step.column) for step in steps].index(("substring", "email"))
    phrase = steps[number].params[f"p{number}_phrase"]
    # "example" and "mail" are in every row, "person" in all but two: the sampled rows say so.
    assert phrase != f'"{email}"' and "example" not in phrase and "mail" not in phrase, phrase
    with engine.connect() as conn:
        found = listing.search(conn, reflected, email)
        assert [(phase.kind, row.id) for phase, row in found.found] == [("exact", 20_001)]
        near = listing.search(conn, reflected, "weber.4990@mail.exam")
        assert [(phase.kind, row.id) for phase, row in near.found] == [("substring", 20_001)]
        shouted = listing.search(conn, reflected, "WEBER.4990@MAIL.EXAM")
        assert [(phase.kind, row.id) for phase, row in shouted.found] == [("substring", 20_001)]
        kelvin = listing.search(conn, reflected, "anna.kim.4990@mail.exam")
        assert [(phase.kind, row.id) for phase, row in kelvin.found] == [("substring", 20_002)]


def test_a_mariadb_index_whose_fill_was_stopped_is_missing_and_made_again(saas_product):
    # On MariaDB the side table and its triggers are committed before the fill; a build killed half-way
    # left an empty table that counted as the index, and searches then found nothing, without an error.
    name = _package(saas_product.folder, SEARCHED)
    app, headers = _serve(saas_product, name)
    engine, product = app.extensions["console_db"].target_engine, app.extensions["product"]
    if engine.dialect.name not in ("mysql", "mariadb"):
        app.extensions["console_db"].dispose()
        pytest.skip("only MariaDB's index is filled after its DDL is committed")
    search_index.create_missing(engine, product)
    assert search_index.missing(engine, product) == []
    with engine.begin() as conn:  # as a build stopped after its triggers: no rows, no mark
        conn.exec_driver_sql("DELETE FROM sc_trgm_accounts_full_name")
        conn.exec_driver_sql("ALTER TABLE sc_trgm_accounts_full_name COMMENT = ''")
    assert [index.name for index in search_index.missing(engine, product)] == ["sc_trgm_accounts_full_name"]
    assert _cli("check", "--url", saas_product.urls["target"], "--package", name).exit_code == 1

    search_index.create_missing(engine, product)
    found = app.test_client().get("/api/v1/records/accounts?q=client1", headers=headers)
    assert found.status_code == 200, found.get_data(as_text=True)
    assert [item["key"] for item in found.get_json()["items"]] == [1] + list(range(10, 20))
    app.extensions["console_db"].dispose()
