"""The http suite's CPU accounting: /proc's lines read right, and real work by each side counted on its side."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench import cpu_split
from bench.cpu_split import Reading, parse_stat, per_request

linux_only = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads Linux's /proc")


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_a_stat_line_whose_name_holds_spaces_and_parentheses():
    line = "4242 (gunicorn: (odd) name) S 1 4200 4100 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 9 0 7 0 0"
    assert parse_stat(line) == ("gunicorn: (odd) name", 4100, 280.0)


def test_milliseconds_a_request_by_where_they_were_used():
    before, after = Reading(1.0, 2.0, 3.0), Reading(1.5, 2.25, 3.1)
    assert per_request(before, after, 250) == {"web_cpu_ms": 2.0, "database_cpu_ms": 1.0, "wrk_cpu_ms": 0.4}


def test_no_readings_or_no_requests_give_no_figures():
    assert per_request(None, None, 100) == {}
    assert per_request(Reading(0, 0, 0), Reading(1, 1, 1), 0) == {}


@linux_only
def test_the_web_servers_session_is_counted_and_nothing_else():
    # A process of a session of its own, busy for a while and then idle but alive, as a gunicorn worker between
    # rounds: a session whose processes end between two readings (a test run's own) would lose their time.
    busy = subprocess.Popen([sys.executable, "-c", "import time\nend = time.process_time() + 0.5\n"
                             "while time.process_time() < end: pass\ntime.sleep(30)"], start_new_session=True)
    try:
        time.sleep(0.05)
        before = cpu_split.read(busy.pid, ("sqlite",))
        time.sleep(1.5)
        after = cpu_split.read(busy.pid, ("sqlite",))
    finally:
        busy.kill()
        busy.wait()
    assert after.web - before.web >= 0.2
    assert after.database == before.database == 0.0  # SQLite has no server
    assert cpu_split.read(-1, ("sqlite",)).web == 0.0  # a session no process has


@linux_only
def test_a_finished_childs_cpu_is_the_load_generators():
    before = cpu_split.read(os.getsid(0), ())
    subprocess.run([sys.executable, "-c", "import time\nend = time.process_time() + 0.3\n"
                    "while time.process_time() < end: pass"], check=True)
    after = cpu_split.read(os.getsid(0), ())
    assert after.load - before.load >= 0.2


@linux_only
def test_postgresqls_backends_are_counted_as_its_server():
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            stat = Path(f"/proc/{backend}/stat")
            if not stat.exists():
                pytest.skip("the PostgreSQL server is not on this machine")
            name, _session, before = parse_stat(stat.read_text())
            conn.execute(text("SELECT count(*) FROM generate_series(1, 5000000)"))
            after = parse_stat(stat.read_text())[2]
    finally:
        engine.dispose()
    assert name in cpu_split.SERVER_NAMES["postgresql"]  # what read() sums for a PostgreSQL database
    assert (after - before) / os.sysconf("SC_CLK_TCK") >= 0.05
