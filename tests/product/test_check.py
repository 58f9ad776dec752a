"""Broken product packages: `product check` names each problem; a malformed declaration stops start-up in one line."""
from __future__ import annotations

import time
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, String, Table, create_engine, inspect

from console import create_app
from console.config import ConfigError
from console.product.check import leading_columns
from console.product.cli import group
from tests.conftest import config_for
from tests.product.conftest import inspect_into

BROKEN = '''from console.product import Record, mask

RECORDS = [
    Record("accounts", exact=["email"], prefix=["nickname"], sort=["company"], personal={"email": mask.email}),
    Record("ghosts", table="no_such_table"),
    Record("invoices", customer="mail"),
]
'''


def _package(folder, source: str) -> str:
    name = f"broken_{uuid.uuid4().hex[:8]}"
    (folder / name).mkdir()
    (folder / name / "__init__.py").write_text(source)
    return name


def test_check_names_each_problem(saas_product, monkeypatch):
    name = _package(saas_product.folder, BROKEN)
    result = CliRunner().invoke(group, ["check", "--url", saas_product.urls["target"], "--package", name])
    assert result.exit_code == 1
    assert f"{name}: accounts: prefix: column 'nickname' does not exist in table 'accounts'" in result.output
    assert f"{name}: accounts: sort: no index on 'accounts' leads with 'company'" in result.output
    assert f"{name}: ghosts: table 'no_such_table' does not exist" in result.output
    assert f"{name}: invoices: customer: column 'mail' does not exist in table 'invoices'" in result.output
    assert "4 problems" in result.output


KINDS = '''from console.product import Record, mask

RECORDS = [
    Record("accounts", exact=["id", "email"], holds={"full_name": "name", "phone": "phone"},
           personal={"email": mask.email, "full_name": mask.name, "phone": mask.phone}),
]
'''


def test_check_names_a_column_whose_values_break_its_kind(saas_product):
    """The SaaS's names ("Ada Client7") hold digits: a search for a text with one would skip them."""
    name = _package(saas_product.folder, KINDS)
    result = CliRunner().invoke(group, ["check", "--url", saas_product.urls["target"], "--package", name])
    assert result.exit_code == 1
    assert (f"{name}: accounts: holds: 30 values of 'full_name' hold a digit or an @, which no name holds "
            "(first: key ") in result.output
    assert "'phone'" not in result.output and "1 problem" in result.output


@pytest.mark.parametrize("source, named", [
    ('from console.product import Record\nRECORDS = [Record("accounts", holds={"email": "email"})]\n',
     "field 'holds'"),
    ('from console.product import Record\nRECORDS = [Record("accounts", serch=["email"])]\n', "field 'serch'"),
    ('from console.product import HasMany, Record\nRECORDS = [Record("accounts", related=[HasMany("nope", '
     'via="x")])]\n', "field 'related'"),
    ('from console.product import Record\nRECORDS = [Record("accounts"), Record("accounts")]\n', "field 'name'"),
    ('from console.product import Record\nRECORDS = [Record("accounts", key="")]\n', "field 'key'"),
    ('from console.product import Record\nRECORDS = [Record("accounts", customer="")]\n', "field 'customer'"),
    ('from console.product import Record\nRECORDS = [Record("users", customer="email"), Record("accounts", '
     'customer="email")]\n', "field 'customer'"),
])
def test_a_malformed_declaration_stops_start_up_in_one_line(test_databases, tmp_path, monkeypatch, source, named):
    monkeypatch.syspath_prepend(str(tmp_path))
    name = _package(tmp_path, source)
    with pytest.raises(ConfigError) as raised:
        create_app(config_for(test_databases.create(), PRODUCT_PACKAGE=name))
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"PRODUCT_PACKAGE {name}: record 'accounts', ")
    assert named in message


def test_inspect_reads_two_hundred_tables(tmp_path):
    url = f"sqlite:///{tmp_path}/wide.db"
    engine = create_engine(url)
    metadata = MetaData()
    for n in range(200):
        columns = [Column("id", Integer, primary_key=True), Column("email", String(100), unique=True),
                   Column("label", String(50), index=True)]
        if n:
            columns.append(Column("parent_id", ForeignKey(f"table_{n - 1:03d}.id"), index=True))
        Table(f"table_{n:03d}", metadata, *columns)
    metadata.create_all(engine)
    engine.dispose()
    started = time.perf_counter()
    result = inspect_into(url, tmp_path, "wide_product")
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    source = (tmp_path / "wide_product" / "records.py").read_text()
    compile(source, "records.py", "exec")
    assert source.count("    Record(") == 200
    print(f"product inspect on 200 tables: {elapsed:.2f} s")



def test_a_unique_written_on_a_sqlite_column_is_an_exact_key_and_an_index(tmp_path):
    # `email TEXT UNIQUE` makes an index SQLite names itself; SQLAlchemy reflects it neither as an index nor
    # as a unique constraint, so inspect and check read SQLite's own index list.
    url = f"sqlite:///{tmp_path}/inline.db"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE members (id INTEGER PRIMARY KEY, email VARCHAR(200) UNIQUE NOT NULL, "
                             "nickname VARCHAR(50))")
    with engine.connect() as conn:
        assert leading_columns(inspect(conn), "members") == {"id", "email"}
    engine.dispose()
    assert inspect_into(url, tmp_path, "inline_product").exit_code == 0
    source = (tmp_path / "inline_product" / "records.py").read_text()
    assert "exact=['id', 'email']" in source and "prefix=['email']" in source
