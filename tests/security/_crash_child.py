"""Run one task in a fresh process and SIGKILL that process at a chosen point (tests/security/test_faults.py).

    python -m tests.security._crash_child '<json job>'

The job holds the app's config (its two database URLs), the actor's email, the task, its params, ticket and
reason, an optional Idempotency-Key, and where to die:
- "after_commit": right after the target transaction committed, before the emails and the audit outcome;
- "before_commit": inside the target transaction, after the task's writes, just before COMMIT.
Exit code 3 means the process was never killed (the seam moved; the test then fails).
"""
from __future__ import annotations

import json
import os
import signal
import sys


def _die(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def main(job: dict) -> int:
    from sqlalchemy import event, select

    from console import create_app
    from console.auth.models import StaffUser
    from console.db import console_session
    from console.tasks import execution
    from console.tasks.runner import RunRequest, TaskError, start_run

    app = create_app(job["config"])
    if job["crash"] == "after_commit":
        # execute() calls run_effects first thing once apply() has committed the target transaction.
        execution.run_effects = _die
    else:
        # Previews only roll back, so the first target COMMIT of a run is the real one.
        event.listen(app.extensions["console_db"].target_factory, "before_commit", _die)
    with app.app_context():
        actor = console_session().scalar(select(StaffUser).where(StaffUser.email == job["actor"]))
        try:
            start_run(RunRequest(task=job["task"], params=job["params"], ticket=job["ticket"], reason=job["reason"],
                                 actor=actor, idempotency_key=job.get("key"), source="api"))
        except TaskError as exc:
            print(f"not killed: {exc!r}", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
