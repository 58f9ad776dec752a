"""The http suite's CPU accounting: /proc's lines read right, and real work by each side counted on its side."""
import os
import subprocess
import sys
import time

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
    mine = os.getsid(0)
    before = cpu_split.read(mine, ("sqlite",))
    _burn(0.3)
    after = cpu_split.read(mine, ("sqlite",))
    assert after.web - before.web >= 0.2  # this process is in that session
    assert after.database == before.database == 0.0  # SQLite has no server
    other = cpu_split.read(-1, ("sqlite",))  # a session no process has
    assert other.web == 0.0


@linux_only
def test_a_finished_childs_cpu_is_the_load_generators():
    before = cpu_split.read(os.getsid(0), ())
    subprocess.run([sys.executable, "-c", "import time\nend = time.process_time() + 0.3\n"
                    "while time.process_time() < end: pass"], check=True)
    after = cpu_split.read(os.getsid(0), ())
    assert after.load - before.load >= 0.2


@linux_only
def test_the_database_servers_work_is_counted_on_postgresql():
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            before = cpu_split.read(-1, ("postgresql",))
            conn.execute(text("SELECT count(*) FROM generate_series(1, 5000000)"))
            after = cpu_split.read(-1, ("postgresql",))
    finally:
        engine.dispose()
    assert after.database - before.database >= 0.05
