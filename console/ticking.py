"""A daemon thread that does one piece of housekeeping now and then every `interval` seconds.

The serving process runs a few of these in each worker (the audit checkpoint keeper, the
escalation digest), started after gunicorn's fork and stopped with the worker. A failing
step is logged and tried again at the next tick: a database that is down now may be back.
"""
from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

log = logging.getLogger(__name__)


class Ticker(ABC):
    """Subclasses set `name` and `failure` (what could not be done) and implement `step()`."""

    name = "ticker"
    failure = "a housekeeping step failed"

    def __init__(self, interval: float):
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    @abstractmethod
    def step(self) -> None:
        """The housekeeping itself; an exception is logged and the step tried again at the next tick."""

    def closed(self) -> None:
        """Release what the step held open, once the thread has stopped."""

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.closed()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("%s; trying again in %s s", self.failure, self.interval)
            self._stop.wait(self.interval)
