"""`support-console product`: inspect a database into a starter package; check a package against it."""
from __future__ import annotations

import os
import time
from pathlib import Path

import click

from console.config import DEFAULT_PRODUCT_PACKAGE, ConfigError, normalize_db_url
from console.db import make_engine
from console.product.check import check_product
from console.product.loading import load_product
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


@group.command("check")
@click.option("--url", help="The database to compare with (default: TARGET_DATABASE_URL).")
@click.option("--package", "package", default=None, help="The product package (default: PRODUCT_PACKAGE).")
def check_command(url: str | None, package: str | None):
    """Name every declaration the database does not back: unknown tables or columns, keys with no index."""
    name = package or os.environ.get("PRODUCT_PACKAGE", "").strip() or DEFAULT_PRODUCT_PACKAGE
    try:
        product = load_product(name)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    engine = _engine(url)
    try:
        problems = check_product(product, engine)
    finally:
        engine.dispose()
    for problem in problems:
        click.echo(f"{name}: {problem}", err=True)
    tasks_fit = _tasks_fit(name)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {name}")
    if not tasks_fit:
        raise click.ClickException(f"some tasks do not fit {name}")
    click.echo(f"{name}: {len(product.records)} records match the database.")


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
