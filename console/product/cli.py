"""`support-console product`: inspect a database into a starter package; check a package against it; index it."""
from __future__ import annotations

import os
import time
from pathlib import Path

import click

from console.config import DEFAULT_PRODUCT_PACKAGE, ConfigError, normalize_db_url
from console.engines import make_engine
from console.formatting import counted
from console.product import search_index
from console.product.check import check_product
from console.product.loading import Product, load_product
from console.product.starter import StarterError, write_starter


@click.group("product")
def group():
    """Declare the product support looks up: inspect a database, check a package."""


def _engine(url: str | None):
    raw = url or os.environ.get("TARGET_DATABASE_URL", "sqlite:///instance/shop.db")
    try:
        return make_engine(normalize_db_url(raw, "--url" if url else "TARGET_DATABASE_URL", mysql=True))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@group.command("inspect")
@click.option("--url", help="The database to read (default: TARGET_DATABASE_URL).")
@click.option("--package", "package", required=True, help="The new package's name, e.g. acme_product.")
@click.option("--out", "out", default=".", show_default=True, type=click.Path(file_okay=False),
              help="The folder to write the package into.")
def inspect_command(url: str | None, package: str, out: str):
    """Write a starter product package for the database's tables; print its path last."""
    engine = _engine(url)
    started = time.perf_counter()
    try:
        path = write_starter(engine, package, Path(out))
    except StarterError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    click.echo(f"Wrote a starter package in {time.perf_counter() - started:.1f} s. Serve it with "
               f"PRODUCT_PACKAGE={package} and {Path(out).resolve()} on PYTHONPATH; `product check` checks it.")
    click.echo(str(path.resolve()))


def _product(package: str | None) -> Product:
    name = package or os.environ.get("PRODUCT_PACKAGE", "").strip() or DEFAULT_PRODUCT_PACKAGE
    try:
        return load_product(name)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@group.command("check")
@click.option("--url", help="The database to compare with (default: TARGET_DATABASE_URL).")
@click.option("--package", "package", default=None, help="The product package (default: PRODUCT_PACKAGE).")
def check_command(url: str | None, package: str | None):
    """Name every declaration the database does not back: unknown tables or columns, keys with no index."""
    product = _product(package)
    name = product.package
    engine = _engine(url)
    try:
        problems = check_product(product, engine)
    finally:
        engine.dispose()
    for problem in problems:
        click.echo(f"{name}: {problem}", err=True)
    tasks_fit = _tasks_fit(name)
    if problems:
        raise click.ClickException(f"{counted(len(problems), 'problem')} in {name}")
    if not tasks_fit:
        raise click.ClickException(f"some tasks do not fit {name}")
    click.echo(f"{name}: {counted(len(product.records), 'record')} match{'es' if len(product.records) == 1 else ''} "
               "the database.")


def _tasks_fit(package: str) -> bool:
    """Run `support-console tasks check --product PACKAGE` too (tasks offered on records the package lacks).

    Reached through the command line it belongs to, by name: the product domain does not import the tasks
    domain, which builds on it. True when the tasks fit, or when there is no such command (this group alone).
    """
    context = click.get_current_context()
    root = context.find_root().command
    tasks_group = root.get_command(context, "tasks") if isinstance(root, click.Group) else None
    check = tasks_group.get_command(context, "check") if isinstance(tasks_group, click.Group) else None
    if check is None:
        return True
    try:
        context.invoke(check, product_name=package)
    except click.exceptions.Exit as exc:
        return exc.exit_code == 0
    return True


@group.command("index")
@click.option("--url", help="The database to index (default: TARGET_DATABASE_URL).")
@click.option("--package", "package", default=None, help="The product package (default: PRODUCT_PACKAGE).")
@click.option("--dry-run", is_flag=True, help="Only print the indexes it would create.")
def index_command(url: str | None, package: str | None, dry_run: bool):
    """Create the indexes the package's substring search keys need, printing each (the only change it makes)."""
    product = _product(package)
    engine = _engine(url)
    try:
        wanted = search_index.missing(engine, product)
        if dry_run:
            created = [f"{index.record}.{index.column}: would create {index.name} on {index.table}" for index in wanted]
        else:
            created = search_index.create_missing(engine, product, wanted)
    except Exception as exc:  # a refused statement or a missing table: say which, in one line
        raise click.ClickException(f"{product.package}: could not create the search indexes: "
                                   f"{exc.__class__.__name__}: {exc}") from None
    finally:
        engine.dispose()
    for line in created:
        click.echo(f"{product.package}: {line}")
    if not wanted:
        click.echo(f"{product.package}: every substring search key has its index.")
