"""`support-console tasks bulk NAME --csv FILE`: a preview, a progress bar, the bulk id as the last line."""
from __future__ import annotations

from sqlalchemy import select

from admin_tasks.shop_schema import Customer
from console.bulk.models import Bulk
from console.db import console_session, target_session
from console.cli import main
from tests.factories import CustomerFactory, StaffUserFactory, use_sessions


def _setup(isolated_app, tmp_path, rows: list[str]):
    app = isolated_app()
    with app.app_context():
        use_sessions(console_session(), target_session())
        agent = StaffUserFactory(role="agent")
        emails = [CustomerFactory(locked=True).email for _ in range(3)]
        console_session().commit()
        target_session().commit()
    csv = tmp_path / "items.csv"
    csv.write_text("email\n" + "".join(f"{row}\n" for row in (rows or emails)))
    return app, agent.email, emails, csv


def _invoke(app, *args):
    return app.test_cli_runner().invoke(main, ["tasks", *args], catch_exceptions=False)


def test_a_bulk_from_a_csv_runs_and_prints_its_id_last(isolated_app, tmp_path):
    app, agent, emails, csv = _setup(isolated_app, tmp_path, [])
    result = _invoke(app, "bulk", "unlock_account", "--csv", str(csv), "--as", agent, "--ticket", "T-CLI",
                     "--reason", "bad deploy locked them")
    assert result.exit_code == 0, result.output + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("3 items; runs without approval")
    with app.app_context():
        bulk = console_session().get(Bulk, int(lines[-1]))
        assert (bulk.status, bulk.source) == ("finished", "cli")
        statuses = target_session().scalars(select(Customer.status).where(Customer.email.in_(emails))).all()
    assert statuses == ["active"] * 3
    assert "bulk" in result.stderr  # the progress bar


def test_an_item_that_did_not_apply_makes_the_exit_non_zero(isolated_app, tmp_path):
    app, agent, emails, csv = _setup(isolated_app, tmp_path, [])
    csv.write_text("email\n" + "".join(f"{e}\n" for e in emails + [emails[0]]))
    result = _invoke(app, "bulk", "unlock_account", "--csv", str(csv), "--as", agent, "--ticket", "T-CLI",
                     "--reason", "bad deploy")
    assert result.exit_code == 1
    assert result.stdout.strip().splitlines()[-1].isdigit()
    assert "1 refused" in result.stdout and "3 succeeded" in result.stdout


def test_a_dry_run_previews_the_whole_and_queues_nothing(isolated_app, tmp_path):
    app, agent, emails, csv = _setup(isolated_app, tmp_path, [])
    csv.write_text("email\n" + "".join(f"{e}\n" for e in emails + [emails[0]]))
    result = _invoke(app, "bulk", "unlock_account", "--csv", str(csv), "--as", agent, "--ticket", "T-CLI",
                     "--reason", "bad deploy", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "4 items" in result.stdout and "Dry run" in result.stdout
    with app.app_context():
        assert console_session().scalars(select(Bulk)).first() is None
        assert target_session().scalar(select(Customer.status).where(Customer.email == emails[0])) == "locked"


def test_a_bad_csv_names_the_row_and_exits_2(isolated_app, tmp_path):
    app, agent, _, csv = _setup(isolated_app, tmp_path, ["not-an-email"])
    result = _invoke(app, "bulk", "unlock_account", "--csv", str(csv), "--as", agent, "--ticket", "T-CLI",
                     "--reason", "x")
    assert result.exit_code == 2
    assert "row 2, column email" in result.stderr


def test_a_dry_run_states_the_total_in_the_currency(isolated_app, tmp_path):
    from tests.factories import OrderFactory, PaymentFactory

    app, agent, _emails, csv = _setup(isolated_app, tmp_path, [])
    with app.app_context():
        use_sessions(console_session(), target_session())
        orders = [OrderFactory(total_cents=9000) for _ in range(2)]
        target_session().flush()
        for order in orders:
            PaymentFactory(order_id=order.id, amount_cents=9000)
        target_session().commit()
        csv.write_text("order_id,amount_cents\n" + "".join(f"{order.id},2550\n" for order in orders))
        use_sessions(None, None)
    result = _invoke(app, "bulk", "refund_order", "--csv", str(csv), "--as", agent, "--ticket", "T-CLI",
                     "--reason", "double charge", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "2 items; EUR 51.00 in total; runs without approval"
