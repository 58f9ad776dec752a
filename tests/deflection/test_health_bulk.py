"""Tool health counts bulk items apart from single runs (issue 16: deflection counts a bulk)."""
from datetime import date

from console.deflection import insights
from console.deflection.metrics import StatsFilter
from console.deflection.models import TicketEvent

MARCH = StatsFilter(date(2026, 3, 1), date(2026, 3, 31))


def test_bulk_items_count_apart_from_single_runs(app, event, console_db):
    # The runner gives each event the bulk its run is an item of (tests/bulk/test_deflection.py).
    for index, status in enumerate(("succeeded", "succeeded", "refused")):
        event("B-1", "task_run", index, task="unlock_account", run_id=100 + index, run_status=status, bulk_id=7)
    assert event("B-2", "task_run", 5, task="unlock_account", run_id=110, run_status="failed").bulk_id is None
    event("B-2", "task_run", 6, task="unlock_account", run_status="succeeded")
    with app.app_context():
        row = next(r for r in insights.tool_health(console_db, MARCH) if r["task"] == "unlock_account")
    assert (row["uses"], row["succeeded"], row["failed"], row["success_rate"]) == (2, 1, 1, 0.5)
    assert (row["bulk_items"], row["bulk_succeeded"], row["bulk_refused"]) == (3, 2, 1)
    assert console_db.query(TicketEvent).filter(TicketEvent.bulk_id == 7).count() == 3


def test_the_health_panel_draws_single_runs_and_bulk_items_as_separate_bars(client, login_as, event, console_db):
    event("B-3", "task_run", 0, task="unlock_account", run_id=120, run_status="refused", bulk_id=8)
    event("B-4", "task_run", 1, task="unlock_account", run_status="succeeded")
    login_as("product_owner")
    html = client.get("/admin/deflection/", query_string={"panel": "health", "from": "2026-03-01",
                                                           "to": "2026-03-31"}).get_data(as_text=True)
    assert "Unlock a customer account: single runs" in html and "Unlock a customer account: bulk items" in html
    assert "1 (0 succeeded, 1 refused, 0 failed)" in html
    # Refused is amber with a pattern, never a second green: not colour alone.
    assert 'fill="#f9a825"' in html and "#66bb6a" not in html and 'fill="url(#' in html
