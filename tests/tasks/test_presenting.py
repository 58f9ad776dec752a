"""What pages and the CLI show of a run: money in its currency's units, by the product package's declarations."""
from console.tasks.presenting import change_tables


def _rows(tables) -> dict:
    return {row["column"]: (row["label"], row["before_text"], row["after_text"]) for row in tables[0]["rows"]}


def test_a_declared_money_column_reads_in_the_currency_of_its_row(app):
    change = {"table": "orders", "key": {"id": 7}, "before": {"refunded_cents": 0, "currency": "USD"},
              "after": {"refunded_cents": 3000, "currency": "USD"}}
    with app.app_context():
        rows = _rows(change_tables([change], currency="EUR"))

    assert rows["refunded_cents"] == ("Refunded amount", "USD 0.00", "USD 30.00")  # the row's own currency wins


def test_without_its_currency_column_a_change_reads_in_the_runs_currency(app):
    change = {"table": "orders", "key": {"id": 7}, "before": {"refunded_cents": 0, "status": "paid"},
              "after": {"refunded_cents": 3000, "status": "refunded"}}
    with app.app_context():
        rows = _rows(change_tables([change], currency="EUR"))
        unknown = _rows(change_tables([change]))

    assert rows["refunded_cents"] == ("Refunded amount", "EUR 0.00", "EUR 30.00")
    assert rows["status"] == ("Status", "paid", "refunded")  # not money: as it is
    assert unknown["refunded_cents"] == ("Refunded amount (cents)", 0, 3000)  # no currency known: cents, said so


def test_a_fixed_currency_column_and_an_undeclared_table(app):
    refund = {"table": "refunds", "key": None, "before": None, "after": {"order_id": 7, "amount_cents": 1234567}}
    other = {"table": "not_a_record", "key": {"id": 1}, "before": {"amount_cents": 1}, "after": {"amount_cents": 2}}
    with app.app_context():
        refund_rows, other_rows = _rows(change_tables([refund])), _rows(change_tables([other], currency="EUR"))

    assert refund_rows["amount_cents"] == ("Amount", None, "EUR 12,345.67")
    assert other_rows["amount_cents"] == ("Amount (cents)", 1, 2)  # nothing declares it money
