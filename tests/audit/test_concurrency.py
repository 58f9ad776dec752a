"""Parallel writers from several threads and several processes keep one unbroken chain.

The processes are spawned, so each has its own engine and connections, as separate gunicorn
workers or hosts would. A verifier runs meanwhile and must never mistake them for tampering.
"""
import multiprocessing
import threading

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from console.audit.chain import record_event
from console.audit.checkpoints import policy_from_config
from console.audit.verify import verify_trail
from console.engines import make_engine
from tests.conftest import TEST_AUDIT_KEY

EVERY = 7
PER_WRITER = 15


def write_events(console_url: str, label: str, count: int, start=None) -> None:
    """Append `count` events as `label`, each in its own committed transaction.

    With `start`, a barrier of every writer, the writer first connects, then waits for all the others:
    a freshly spawned process takes longer to reach its first write than a thread of this one, which
    could otherwise finish all its writes before the processes began (seen on a quiet machine).
    """
    engine = make_engine(console_url)
    config = {"CONSOLE_AUDIT_KEY": TEST_AUDIT_KEY, "AUDIT_CHECKPOINT_EVERY": EVERY}
    session = sessionmaker(bind=engine, info={"console_config": config})()
    try:
        session.execute(text("SELECT 1"))
        session.rollback()
        if start is not None:
            start.wait(timeout=120)
        for n in range(count):
            record_event(session, actor=f"{label}@example.com", action="concurrency.test", reason=f"{label} #{n}",
                         details={"n": n})
    finally:
        session.close()
        engine.dispose()


def run_threads(console_url: str, prefix: str, threads: int, count: int, start=None) -> list[BaseException]:
    failures: list[BaseException] = []

    def target(label):
        try:
            write_events(console_url, label, count, start)
        except BaseException as exc:  # reported to the test, not lost in the thread
            failures.append(exc)

    workers = [threading.Thread(target=target, args=(f"{prefix}-t{n}",)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return failures


def process_writer(console_url: str, prefix: str, threads: int, count: int, start) -> None:
    failures = run_threads(console_url, prefix, threads, count, start)
    if failures:
        raise failures[0]


def test_threads_and_processes_append_to_one_chain(trail):
    made = trail(AUDIT_CHECKPOINT_EVERY=EVERY)
    url = made.app.config["CONSOLE_DATABASE_URL"]
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(3 * 3 + 4)  # every writer thread, of the three processes and of this one, begins together
    processes = [spawn.Process(target=process_writer, args=(url, f"p{n}", 3, PER_WRITER, start)) for n in range(3)]
    for process in processes:
        process.start()

    verdicts = []
    stop = threading.Event()

    def verifier():
        policy = policy_from_config(made.app.config)
        while not stop.is_set():
            verdicts.append(verify_trail(made.engine, TEST_AUDIT_KEY, policy=policy))

    watcher = threading.Thread(target=verifier)
    watcher.start()
    try:
        failures = run_threads(url, "main", 4, PER_WRITER, start)
        for process in processes:
            process.join(timeout=180)
    finally:
        stop.set()
        watcher.join()
    assert failures == []
    assert [process.exitcode for process in processes] == [0, 0, 0]

    total = (3 * 3 + 4) * PER_WRITER
    code, output = made.verify()
    assert code == 0, output
    assert output.startswith(f"OK {total} entries")
    assert [row.seq for row in made.sql("SELECT seq FROM audit_entries ORDER BY seq")] == list(range(1, total + 1))
    per_writer = made.sql("SELECT actor, COUNT(*) FROM audit_entries GROUP BY actor")
    assert len(per_writer) == 13 and {count for _, count in per_writer} == {PER_WRITER}
    seqs_of = {}
    for seq, actor in made.sql("SELECT seq, actor FROM audit_entries"):
        seqs_of.setdefault(actor.startswith("main"), []).append(seq)
    threads_here, from_processes = seqs_of[True], seqs_of[False]
    assert min(threads_here) < max(from_processes) and min(from_processes) < max(threads_here)  # they overlapped
    checkpoints = sorted({row.seq for row in made.sql("SELECT seq FROM audit_checkpoints")})
    assert checkpoints[0] == 1 and all(b - a <= EVERY for a, b in zip(checkpoints, checkpoints[1:]))
    assert verdicts and all(verdict.ok for verdict in verdicts), [v.summary for v in verdicts if not v.ok]
