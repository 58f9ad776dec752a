"""Where a load's CPU goes: the web server's processes, the local database server's, and the load generator's.

Under wrk on one machine, requests per second are bounded by the CPU all three use per request; a ratio of
requests per second says how much, this says where (the http suite's table). Read from Linux's /proc: the
user and system time of each process (fields 14 and 15 of /proc/PID/stat, in clock ticks), of the processes
in the web server's session (gunicorn's master and workers, started in a session of their own) and of those
named like the database server (PostgreSQL's backends, MariaDB's server). wrk's own is the children's
resource usage of the benchmark process. Elsewhere than Linux, nothing is read and the columns stay empty.
"""
from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
# The database servers whose CPU is counted, by process name (/proc/PID/stat's second field), per dialect.
SERVER_NAMES = {"postgresql": ("postgres",), "mysql": ("mariadbd", "mysqld"), "mariadb": ("mariadbd", "mysqld")}


@dataclass(frozen=True)
class Reading:
    """CPU seconds so far: the web server's, the database server's (0 when none is local), wrk's."""

    web: float
    database: float
    load: float


def parse_stat(text: str) -> tuple[str, int, float]:
    """(process name, session id, user + system ticks) of one /proc/PID/stat line.

    The name is between the first '(' and the last ')', and may itself hold spaces and parentheses.
    """
    opened, closed = text.index("("), text.rindex(")")
    fields = text[closed + 2:].split()  # fields[0] is the state, the third field of the line
    return text[opened + 1:closed], int(fields[3]), float(int(fields[11]) + int(fields[12]))


def _stats():
    try:
        entries = list(PROC.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.isdigit():
            try:
                yield parse_stat((entry / "stat").read_text())
            except (OSError, ValueError, IndexError):
                continue  # the process ended while it was read


def read(web_session: int, dialects: tuple[str, ...]) -> Reading | None:
    """The CPU seconds used so far by the processes of session `web_session`, by the database servers of
    `dialects` (postgresql, mysql or mariadb; none for sqlite), and by the benchmark's finished children (wrk)."""
    if not (PROC / "self" / "stat").exists():
        return None
    names = {name for dialect in dialects for name in SERVER_NAMES.get(dialect, ())}
    ticks = os.sysconf("SC_CLK_TCK")
    web = database = 0.0
    for name, session, used in _stats():
        if session == web_session:
            web += used
        elif name in names:
            database += used
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Reading(web / ticks, database / ticks, children.ru_utime + children.ru_stime)


def per_request(before: Reading | None, after: Reading | None, requests: int) -> dict[str, float]:
    """Milliseconds of CPU per request between two readings, by where they were used ({} without readings)."""
    if before is None or after is None or requests <= 0:
        return {}
    return {"web_cpu_ms": round((after.web - before.web) * 1000 / requests, 3),
            "database_cpu_ms": round((after.database - before.database) * 1000 / requests, 3),
            "wrk_cpu_ms": round((after.load - before.load) * 1000 / requests, 3)}
