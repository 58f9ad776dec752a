"""Revision 0010_run_bulk_id on a console with bulks: each item's run gets its bulk, read once from its key;
a run whose key only looks like an item's stays a single run."""
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from console.db import utcnow
from console.migrations import alembic_config, upgrade_console

BULK = ("INSERT INTO bulk_runs (id, task, status, ticket, reason, source, actor, total, items_hash, approval_reasons, "
        "decision_reason, created_at) VALUES (:id, :task, 'finished', 'T-1', 'r', 'api', 'agent@example.com', 2, "
        "'h', '', '', :now)")
ITEM = ("INSERT INTO bulk_items (bulk_id, idx, params, status, error, attempts) "
        "VALUES (:bulk, :idx, '{}', 'succeeded', '', 1)")
RUN = ("INSERT INTO task_runs (id, task, status, ticket, reason, actor, params, changes, effects, result, error, risk, "
       "source, created_at, decision_reason, approval_reasons, preview_hash, customer, idempotency_key) VALUES "
       "(:id, :task, 'succeeded', 'T-1', 'r', :actor, '{}', '[]', '[]', '', '', 'low', 'api', :now, '', '', '', '', "
       ":key)")
AGENT, OTHER = "agent@example.com", "other@example.com"
# id: (task, actor, key, the bulk it must get)
RUNS = {1: ("unlock_account", AGENT, "bulk-1-0", 1),
        2: ("unlock_account", AGENT, "bulk-1-1", 1),
        3: ("unlock_account", AGENT, "bulk-1-5", None),  # bulk 1 has no item 5
        4: ("unlock_account", OTHER, "bulk-1-0", None),  # someone else's own key
        5: ("unlock_account", AGENT, "bulk-01-1", None),  # not how an item's key is written
        6: ("unlock_account", AGENT, None, None),
        7: ("unlock_account", AGENT, "bulk-2-0", None),  # bulk 2 is of another task
        8: ("refund_order", AGENT, "bulk-2-0x", None),
        9: ("refund_order", AGENT, "bulk-2-1", 2)}


def test_the_revision_gives_each_item_run_its_bulk_from_its_key(test_databases):
    engine = create_engine(test_databases.create()["console"])
    command.upgrade(alembic_config(engine), "0007_t16_bulk")
    now = utcnow()
    with Session(engine) as session:
        session.execute(text(BULK), [{"id": 1, "task": "unlock_account", "now": now},
                                     {"id": 2, "task": "refund_order", "now": now}])
        session.execute(text(ITEM), [{"bulk": bulk, "idx": idx} for bulk in (1, 2) for idx in (0, 1)])
        session.execute(text(RUN), [{"id": run_id, "task": task, "actor": actor, "key": key, "now": now}
                                    for run_id, (task, actor, key, _) in RUNS.items()])
        session.commit()

    upgrade_console(engine)

    with engine.connect() as conn:
        got = dict(conn.execute(text("SELECT id, bulk_id FROM task_runs")).all())
    assert got == {run_id: bulk for run_id, (_, _, _, bulk) in RUNS.items()}
    engine.dispose()
