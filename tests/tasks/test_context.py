"""TaskContext: reads, conditional writes, effects after commit, and the recorded diff."""
from datetime import datetime

import pytest
from sqlalchemy import event, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from admin_tasks.shop_schema import Customer, Order, OutboxEmail
from console.db import utcnow
from console.tasks import Refusal, TaskContext
from console.tasks.context import thing
from console.tasks.tables import TargetTables
from tests.factories import CustomerFactory, OrderFactory

NOW = datetime(2030, 1, 2, 3, 4, 5, 678901)


@pytest.fixture
def ctx(app, target_db):
    # In the app, as tasks always run: which columns hold email addresses comes from its product package.
    with app.app_context():
        yield TaskContext(target_db, TargetTables(), actor="agent@example.com", ticket="T-1", reason="why",
                          params={}, now=NOW, is_preview=False)


@pytest.fixture
def order(target_db):
    customer = CustomerFactory(email="reader@example.org")
    return OrderFactory(customer_id=customer.id, total_cents=5000, status="paid")


def test_get_reads_a_row_as_a_dict_by_key_or_by_columns(ctx, order):
    row = ctx.get("orders", order.id)
    by_email = ctx.get("customers", email="reader@example.org")

    assert row["id"] == order.id and row["total_cents"] == 5000 and row["status"] == "paid"
    assert isinstance(row["created_at"], datetime)
    assert by_email["id"] == order.customer_id


def test_not_found_refusals_name_the_thing(ctx):
    with pytest.raises(Refusal, match="^order 424242 not found$"):
        ctx.get("orders", 424242)
    with pytest.raises(Refusal, match="^no customer with email nobody@example.org$"):
        ctx.get("customers", email="nobody@example.org")
    assert ctx.find("orders", 424242) is None


def test_find_refuses_an_ambiguous_match(ctx, order):
    OrderFactory(customer_id=order.customer_id)

    with pytest.raises(Refusal, match=f"more than one order with customer_id {order.customer_id}"):
        ctx.find("orders", customer_id=order.customer_id)


def test_find_all_returns_rows_in_key_order(ctx, order):
    second = OrderFactory(customer_id=order.customer_id)

    assert [row["id"] for row in ctx.find_all("orders", customer_id=order.customer_id)] == [order.id, second.id]
    assert ctx.find_all("orders", customer_id=-1) == []
    assert len(ctx.find_all("orders", customer_id=order.customer_id, limit=1)) == 1
    with pytest.raises(ValueError, match="at least one column=value condition"):
        ctx.find_all("orders")


def test_update_writes_only_changed_columns_and_records_them(ctx, order, target_db):
    row = ctx.get("orders", order.id)

    ctx.update("orders", row, status="paid", refunded_cents=1500, updated_at=NOW)

    assert ctx.changes == [{"table": "orders", "key": order.id,
                            "before": {"refunded_cents": 0, "updated_at": row["updated_at"].isoformat()},
                            "after": {"refunded_cents": 1500, "updated_at": NOW.isoformat()}}]
    assert row["refunded_cents"] == 0  # the caller's dict keeps what it read
    assert target_db.scalar(select(Order.refunded_cents).where(Order.id == order.id)) == 1500


def test_an_update_that_changes_nothing_records_nothing(ctx, order):
    ctx.update("orders", ctx.get("orders", order.id), status="paid")

    assert ctx.changes == []


def test_two_updates_of_one_row_make_one_change(ctx, order, target_db):
    row = ctx.get("orders", order.id)

    ctx.update("orders", row, refunded_cents=100)
    ctx.update("orders", row, refunded_cents=300, status="refunded")

    assert ctx.changes == [{"table": "orders", "key": order.id, "before": {"refunded_cents": 0, "status": "paid"},
                            "after": {"refunded_cents": 300, "status": "refunded"}}]
    assert target_db.scalar(select(Order.refunded_cents).where(Order.id == order.id)) == 300


def test_an_update_refuses_when_the_row_changed_since_it_was_read(ctx, order, target_db):
    row = ctx.get("orders", order.id)
    target_db.execute(update(Order).where(Order.id == order.id).values(refunded_cents=999))

    with pytest.raises(Refusal, match=f"^order {order.id} changed while you were working; preview again$"):
        ctx.update("orders", row, refunded_cents=100)
    assert ctx.changes == []


@pytest.mark.parametrize("other_hand", ["Reader Ann", "reader", "reader "])
def test_an_update_notices_a_change_in_letter_case_or_trailing_spaces(ctx, order, target_db, other_hand):
    customer = ctx.get("customers", order.customer_id)
    target_db.execute(update(Customer).where(Customer.id == order.customer_id).values(name=other_hand))

    with pytest.raises(Refusal, match="changed while you were working"):
        ctx.update("customers", {**customer, "name": "Reader"}, name="Someone else")


def test_written_times_read_back_to_the_microsecond(ctx, order, target_db):
    row = ctx.get("orders", order.id)
    ctx.update("orders", row, updated_at=NOW)
    ctx.update("orders", row, updated_at=NOW.replace(microsecond=5), status="refunded")  # compares with NOW

    assert target_db.scalar(select(Order.updated_at).where(Order.id == order.id)) == NOW.replace(microsecond=5)


def test_update_guards_against_mistakes(ctx, order):
    row = ctx.get("orders", order.id)

    with pytest.raises(ValueError, match="no column 'colour'"):
        ctx.update("orders", row, colour="red")
    with pytest.raises(ValueError, match="cannot change a primary key"):
        ctx.update("orders", row, id=1)
    with pytest.raises(ValueError, match="read from 'orders' with get"):
        ctx.update("orders", {"status": "paid"}, status="cancelled")
    with pytest.raises(LookupError, match="no table 'ordres'"):
        ctx.get("ordres", 1)


def test_insert_returns_the_key_and_records_the_row(ctx, order, target_db):
    key = ctx.insert("refunds", order_id=order.id, amount_cents=300, reason="why", created_at=NOW)

    assert isinstance(key, int)
    assert ctx.changes == [{"table": "refunds", "key": key, "before": None,
                            "after": {"order_id": order.id, "amount_cents": 300, "reason": "why",
                                      "created_at": NOW.isoformat()}}]


def test_a_preview_records_inserts_without_a_key(target_db, order):
    preview = TaskContext(target_db, TargetTables(), actor="a", ticket="T", reason="r", params={}, now=NOW,
                          is_preview=True)

    preview.insert("refunds", order_id=order.id, amount_cents=1, reason="", created_at=NOW)

    assert preview.changes[0]["key"] is None and preview.is_preview


def test_emails_wait_for_the_runner(ctx, order, target_db):
    before = target_db.scalar(select(OutboxEmail.id).order_by(OutboxEmail.id.desc()).limit(1))
    ctx.send_email(to="reader@example.org", template="refund_issued", subject="Refund", order_id=order.id)

    assert ctx.effect_lines() == ["email 'refund_issued' to reader@example.org"]
    assert target_db.scalar(select(OutboxEmail.id).order_by(OutboxEmail.id.desc()).limit(1)) == before
    assert ctx.write_outbox() == 1
    written = target_db.scalars(select(OutboxEmail).where(OutboxEmail.order_id == order.id)).one()
    assert (written.to_address, written.template, written.created_at) == ("reader@example.org", "refund_issued", NOW)
    with pytest.raises(ValueError, match="recipient"):
        ctx.send_email(to="", template="t", subject="s")


def test_the_customer_of_a_run_is_found_from_its_order(ctx, order):
    ctx.get("orders", order.id)  # orders BelongsTo customers, the shop's record declared with customer="email"

    assert ctx.customer_email() == "reader@example.org"


def test_a_product_without_a_customer_record_names_no_customer_from_the_rows_read(app, target_db, order):
    with app.app_context():
        ctx = TaskContext(target_db, TargetTables(customer_links={}), actor="agent@example.com", ticket="T-1",
                          reason="why", params={}, now=NOW, is_preview=False)
        ctx.get("orders", order.id)
        ctx.get("customers", order.customer_id)
        assert ctx.customer_email() == ""


def test_the_actor_ticket_reason_and_clock_are_given(ctx):
    assert (ctx.actor, ctx.ticket, ctx.reason, ctx.now, ctx.is_preview) == (
        "agent@example.com", "T-1", "why", NOW, False)


def test_lock_takes_a_row_lock_where_the_database_has_them(ctx, order, target_db):
    statements = []
    connection = target_db.connection()
    event.listen(connection, "before_cursor_execute", lambda *args: statements.append(args[2]))

    ctx.get("orders", order.id, lock=True)
    ctx.get("orders", order.id)

    locked = [s for s in statements if "FOR UPDATE" in s]
    assert len(locked) == (0 if connection.dialect.name == "sqlite" else 1)


@pytest.mark.row_locks
def test_a_locked_row_stops_other_writers_until_the_task_ends(isolated_app):
    engine = isolated_app().extensions["console_db"].target_engine
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(insert(Customer).values(id=1, email="held@example.org", name="Held", status="active",
                                             email_confirmed=True, failed_login_count=0, created_at=now,
                                             updated_at=now))
    grab = select(Customer.id).where(Customer.id == 1).with_for_update(nowait=True)
    with Session(engine) as session:
        ctx = TaskContext(session, TargetTables(), actor="agent@example.com", ticket="T-1", reason="why",
                          params={}, now=NOW, is_preview=False)
        ctx.get("customers", 1, lock=True)
        with engine.connect() as other, pytest.raises(OperationalError):
            other.execute(grab)
        session.rollback()
    with engine.connect() as other:
        assert other.execute(grab).scalar() == 1


def test_from_json_restores_dates(ctx):
    assert ctx.from_json("orders", "created_at", NOW.isoformat()) == NOW
    assert ctx.from_json("orders", "status", "paid") == "paid"
    assert ctx.from_json("orders", "created_at", None) is None


def test_things_are_named_in_words():
    assert [thing(t) for t in ("orders", "customers", "order_items", "email_outbox", "addresses", "categories")] == [
        "order", "customer", "order item", "email outbox", "address", "category"]


def test_a_locked_customer_row_round_trips(ctx, target_db):
    customer = CustomerFactory(locked=True)
    row = ctx.get("customers", customer.id)

    ctx.update("customers", row, status="active", failed_login_count=0, updated_at=utcnow())

    assert target_db.scalar(select(Customer.status).where(Customer.id == customer.id)) == "active"
    assert ctx.changes[0]["before"]["status"] == "locked"


def test_an_outbox_without_an_order_column_takes_the_emails_that_name_no_order(tmp_path):
    from sqlalchemy import create_engine, text

    from console.tasks.context import write_outboxes

    engine = create_engine(f"sqlite:///{tmp_path}/saas.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE email_outbox (id INTEGER PRIMARY KEY, customer_id INTEGER, to_address TEXT "
                             "NOT NULL, template TEXT NOT NULL, subject TEXT NOT NULL, created_at TIMESTAMP NOT NULL, "
                             "sent_at TIMESTAMP)")
    with Session(engine) as session:
        def queued(**ids):
            ctx = TaskContext(session, TargetTables(customer_links={}), actor="agent@example.com", ticket="T-1",
                              reason="why", params={}, now=NOW, is_preview=False)
            ctx.send_email(to="ada@saas.example", template="plan_changed", subject="Your plan", **ids)
            return ctx

        assert write_outboxes([queued(customer_id=1)]) == 1
        session.commit()
        with pytest.raises(ValueError, match="an email gives order_id, and the product's email_outbox table has no"):
            write_outboxes([queued(order_id=5)])
        session.rollback()
        assert session.execute(text("SELECT to_address, customer_id FROM email_outbox")).all() == [
            ("ada@saas.example", 1)]
    engine.dispose()
