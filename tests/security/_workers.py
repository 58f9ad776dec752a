"""A worker process for tests/security/test_concurrency.py: its own app on the shared databases, many calls.

Started with multiprocessing's spawn method, so nothing is inherited from the test process but the arguments.
"""
from __future__ import annotations


def work(config: dict, tokens: dict, worker: int, rounds: int, barrier, results) -> None:
    """Make `rounds` rounds of audited calls through the app's API; put [(what, status, run status)] on results."""
    from console import create_app

    app = create_app(config)
    client = app.test_client()
    done = []

    def call(what: str, path: str, role: str, body: dict) -> None:
        response = client.post(path, json=body, headers=tokens[role])
        answer = response.get_json(silent=True) or {}
        done.append((what, response.status_code, (answer.get("run") or {}).get("status", "")))

    def run(task: str, **params) -> None:
        call(task, f"/api/v1/tasks/{task}/runs", "agent",
             {"params": params, "ticket": f"T-W{worker}", "reason": f"worker {worker}"})

    try:
        barrier.wait(timeout=120)  # every process has its app: start together
        for n in range(rounds):
            run("refund_order", order_id=1004, amount_cents=300 + 10 * worker + n)
            run("resend_confirmation_email", email="unconfirmed@example.com")
            run("unlock_account", email="locked@example.com")  # one process wins, the others are refused
            call("outcome", f"/api/v1/tickets/T-W{worker}-{n}/outcome", "agent", {"outcome": "resolved"})
            run("cancel_order", order_id=1002)  # shipped: always refused, and audited as refused
    finally:
        results.put((worker, done))
        app.extensions["console_db"].dispose()
