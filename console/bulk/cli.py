"""`support-console worker` (RQ bulk worker) and `support-console tasks bulk` (a bulk from a CSV).

`tasks bulk` is added to the tasks domain's group here, so the bulk domain keeps its commands to itself.
"""
from __future__ import annotations

import time
from pathlib import Path

import click
from tqdm import tqdm

from console.auth.services import acting_user
from console.bulk.jobs import run_worker
from console.bulk.planning import preview_plan
from console.bulk.queue import BulkThread
from console.bulk.service import bulk_to_dict, get_bulk, plan_csv, request_bulk_csv
from console.bulk.settings import queue_url
from console.db import console_session, expect_writes
from console.tasks.checks import TaskError
from console.tasks.cli import command_app, exit_with_error, group as tasks_group

POLL_SECONDS = 0.5
FINAL = ("finished", "cancelled", "rejected")
NOT_APPLIED = ("failed", "refused", "interrupted")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (for scripts and tests).")
def group(burst: bool):
    """Work through bulk runs queued on CONSOLE_QUEUE_URL (run as many workers as wanted, on any hosts)."""
    app = command_app()
    if not queue_url(app.config):
        raise click.ClickException("CONSOLE_QUEUE_URL is not set: without a queue, the serving process works "
                                   "through bulks itself")
    run_worker(app, burst=burst)


def _echo_preview(preview) -> None:
    approval = "needs one approval by another lead or admin" if preview.needs_approval else "runs without approval"
    amount = f"; {preview.amount_text} in total" if preview.amount_cents is not None else ""
    click.echo(f"{preview.total} items{amount}; {approval}")
    for why in preview.approval_reasons:
        click.echo(f"  approval: {why}")
    for why, count in preview.refused.items():
        click.echo(f"  {count} would be refused: {why}")
    if preview.failed:
        click.echo(f"  {preview.failed} would fail")
    for sample in preview.samples:
        click.echo(f"  item {sample['index']}: {sample['summary']}")


def _follow(app, bulk_id: int) -> dict:
    """Show a progress bar until the bulk is over; its last state."""
    with tqdm(total=None, unit="item", desc=f"bulk {bulk_id}") as bar:
        while True:
            with app.app_context():
                shown = bulk_to_dict(get_bulk(bulk_id))
            bar.total = shown["total"]
            bar.n = shown["done"]
            bar.set_postfix(status=shown["status"], succeeded=shown["succeeded"], refused=shown["refused"],
                            failed=shown["failed"])  # "paused" says why the bar stands still
            bar.refresh()
            if shown["status"] in FINAL or shown["status"] == "pending_approval":
                return shown
            time.sleep(POLL_SECONDS)


@tasks_group.command("bulk")
@click.argument("name")
@click.option("--csv", "csv_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A CSV with a header row of parameter names, one item per row.")
@click.option("--as", "as_email", required=True, help="The staff user the bulk is requested as.")
@click.option("--ticket", required=True, help="The helpdesk ticket reference.")
@click.option("--reason", required=True, help="Why; it goes into the audit trail.")
@click.option("--dry-run", is_flag=True, help="Only show the preview of the whole; queue nothing.")
def bulk(name: str, csv_file: Path, as_email: str, ticket: str, reason: str, dry_run: bool):
    """Preview a bulk from a CSV, then queue it and follow it; the last line is the bulk id.

    Exit 2 when the CSV or an item is invalid, 1 when any item did not apply (failed, refused, interrupted).
    """
    data = csv_file.read_bytes()
    app = command_app()
    with app.app_context():
        expect_writes()
        user = acting_user(console_session().connection(), as_email)
        if user is None or not user.active:
            raise click.ClickException(f"--as: no active staff user {as_email}")
        try:
            _echo_preview(preview_plan(plan_csv(name, data, ticket, reason, user, "cli"), user))
            if dry_run:
                click.echo("Dry run: nothing was queued.")
                return
            bulk_id = request_bulk_csv(name, data, ticket, reason, user, source="cli").id
        except TaskError as exc:
            exit_with_error(exc)
    worker = BulkThread(app).start() if not queue_url(app.config) else None
    try:
        shown = _follow(app, bulk_id)
    finally:
        if worker is not None:
            worker.stop()
    if shown["status"] == "pending_approval":
        click.echo(f"Bulk {bulk_id} waits for approval by another lead or admin (nothing ran yet).")
    else:
        counts = shown["counts"]
        click.echo(f"Bulk {bulk_id} {shown['status']}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    click.echo(bulk_id)
    if any(shown["counts"].get(status) for status in NOT_APPLIED):
        raise click.exceptions.Exit(1)
