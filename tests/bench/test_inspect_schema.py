"""The inspect suite's schema: 200 tables in chains of related records, each with what inspect looks for."""
from sqlalchemy import MetaData, UniqueConstraint, create_engine

from bench.inspect_schema import CHAIN, TABLES, product_schema
from console.product.starter import render_records


def test_the_schema_has_every_kind_of_column_and_key_inspect_reads():
    metadata = product_schema()
    tables = list(metadata.tables.values())

    assert len(tables) == TABLES
    assert sum(1 for t in tables if t.foreign_keys) == TABLES - TABLES // CHAIN  # all but each chain's first
    assert all(any(isinstance(c, UniqueConstraint) for c in t.constraints) for t in tables)
    assert all(len(t.indexes) >= 3 for t in tables)


def test_inspect_declares_every_table_and_relates_each_chain_both_ways(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'product.db'}")
    product_schema(10).create_all(engine)
    reflected = MetaData()
    reflected.reflect(bind=engine)

    source = render_records(reflected)

    assert source.count("Record(") == 10
    assert source.count("BelongsTo(") == source.count("HasMany(") == 10 - 10 // CHAIN
