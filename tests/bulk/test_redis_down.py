"""Redis goes away and comes back, under a real worker: a new bulk is a 503 meanwhile, and a bulk queued
meanwhile runs once it is back. A Redis server of the test's own is started and killed (the machine's is shared)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker

from console.bulk.service import approve_bulk, request_bulk
from console.tasks.checks import TaskError
from tests.bulk.processes import Console


class PrivateRedis:
    """A throwaway redis-server on a free port, without persistence: stopping it loses every job."""

    def __init__(self, folder):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
                return
            except RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server here to start and stop")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_bulk_approved_while_redis_is_down_runs_once_it_is_back(test_databases, tmp_path, redis_server):
    console = Console(test_databases, tmp_path, redis_url=redis_server.url)
    try:
        agent, lead = console.person("agent"), console.person("lead")
        orders = console.paid_orders(3)
        with console.app.app_context():  # 3 x EUR 40 is above the agent's cap of EUR 100: it waits for a lead
            bulk_id = request_bulk("refund_order", [{"order_id": o, "amount_cents": 4000} for o in orders],
                                   "T-REDIS", "charged twice", agent).id
        console.start_worker()
        deadline = time.monotonic() + 60
        while Worker.count(connection=Redis.from_url(redis_server.url)) < 1:
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)

        redis_server.stop()
        with console.app.app_context():
            with pytest.raises(TaskError) as refused:
                request_bulk("refund_order", [{"order_id": orders[0], "amount_cents": 100}], "T-REDIS", "again",
                             agent)
            assert refused.value.status == 503
            approve_bulk(bulk_id, lead, "the incident is confirmed")  # queued, but its job cannot be
        time.sleep(1.0)
        assert console.progress(bulk_id) == ("queued", 0)

        redis_server.start()  # empty: the job is lost, and the workers' sweep queues the bulk again
        assert console.wait_for(bulk_id, timeout=90) == ("finished", 3)
    finally:
        console.stop_all()
