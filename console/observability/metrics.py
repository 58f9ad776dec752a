"""Prometheus metrics at `/metrics`: HTTP traffic, task runs, approvals, the audit trail, logins.

Counters and histograms live in this process (or, with `PROMETHEUS_MULTIPROC_DIR` set before
start-up, in files that every gunicorn worker shares, so a scrape sees all of them). What is
state rather than traffic (approvals waiting, the audit head, the newest checkpoint's age) is
read from the console database at scrape time, so every process answers the same.

A scrape needs `Authorization: Bearer <CONSOLE_METRICS_TOKEN>`, or an admin's API token: the
route names and counts are operational detail, never for anonymous callers.
"""
from __future__ import annotations

import hmac
import os
import time

from flask import Flask, Response, current_app, has_app_context, jsonify, request
from flask.globals import _cv_app, _cv_request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from console.audit.chain import entries_committed
from console.audit.models import AuditHead
from console.auth.services import bearer_user
from console.db import console_reads, console_session, utcnow
from console.permissions import VIEW_METRICS, role_refusal, user_can
from console.tasks.models import TaskRun

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
EXTENSION = "console_metrics"


class ConsoleState:
    """A collector that reads the console's state from its database at each scrape."""

    @staticmethod
    def _families():
        return (GaugeMetricFamily("console_approvals_waiting", "Task runs waiting for a second person's approval"),
                GaugeMetricFamily("console_audit_head_seq", "The seq of the newest audit entry"),
                GaugeMetricFamily("console_audit_checkpoint_age_seconds",
                                  "Seconds since the newest signed audit checkpoint (absent when none exists)"))

    def describe(self):
        # Registering asks for the names; answering from the database then would open a connection
        # at start-up, in the process that later forks the workers.
        return self._families()

    def collect(self):
        waiting, head_seq, age = self._families()
        session = console_session()  # a scrape is a request: its session, like every other page's
        waiting.add_metric([], session.scalar(
            select(func.count()).select_from(TaskRun).where(TaskRun.status == "pending_approval")) or 0)
        head = session.execute(select(AuditHead.seq, AuditHead.checkpoint_at).where(AuditHead.id == 1)).first()
        head_seq.add_metric([], head.seq if head else 0)
        yield waiting
        yield head_seq
        if head is not None and head.checkpoint_at is not None:
            age.add_metric([], max(0.0, (utcnow() - head.checkpoint_at).total_seconds()))
            yield age


class ConsoleMetrics:
    """The app's metrics: traffic counters, and the collector of its state."""

    def __init__(self):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("console_http_requests", "HTTP requests answered, by route pattern and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("console_http_request_duration_seconds", "Time to answer a request",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.runs = Counter("console_task_runs", "Task runs reaching a status (each status a run reaches counts once)",
                            ["task", "status"], registry=self.registry)
        self.audit = Counter("console_audit_entries", "Audit entries committed, by action",
                             ["action"], registry=self.registry)
        self.login_failures = Counter("console_login_failures", "Failed staff logins", registry=self.registry)
        self._children: dict = {}
        self.state = ConsoleState()
        self.registry.register(self.state)

    def observe(self, method: str, rule, status: int, seconds: float) -> None:
        # The labelled children are looked up once per (method, route, status): labels() costs more than inc().
        route = rule.rule if rule is not None else "unmatched"
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self.requests.labels(method, route, str(status)),
                                              self.latency.labels(method, route))
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Every worker writes its counters to the shared folder; read them all, plus this app's state.
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            registry.register(self.state)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def count_entries(self, entries) -> None:
        for action, outcome, subject_type, task in entries:
            self.audit.labels(action=action).inc()
            if action == "login.failed":
                self.login_failures.inc()
            if subject_type == "task_run" and task and outcome:
                self.runs.labels(task=task, status=outcome).inc()


def _on_entries(_session, entries=()) -> None:
    # Commits made outside an app (the checkpoint keeper's thread) have no metrics to count into.
    if has_app_context():
        metrics = current_app.extensions.get(EXTENSION)
        if metrics is not None:
            metrics.count_entries(entries)


def _observe(response):
    # g.request_started is set by the request-id hook, the first of every request.
    # Flask's context variables, not its proxies: each use of a proxy looks the context up again.
    ctx, req = _cv_app.get(), _cv_request.get().request
    ctx.app.extensions[EXTENSION].observe(req.method, req.url_rule, response.status_code,
                                          time.perf_counter() - ctx.g.request_started)
    return response


def _refusal() -> Response | None:
    """None when the caller may scrape; otherwise the 401 or 403 answer."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        expected = current_app.config.get("METRICS_TOKEN") or ""
        if expected and hmac.compare_digest(token.encode(), expected.encode()):
            return None
        found = bearer_user(console_reads(), token)
        if found is not None:
            user = found[0]
            if user_can(user, VIEW_METRICS):
                return None
            return _error(403, "forbidden", role_refusal(user.role, "read the metrics"))
    return _error(401, "unauthorized", "send Authorization: Bearer <CONSOLE_METRICS_TOKEN> or an admin's API token")


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "fields": {}}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def metrics_endpoint():
    refusal = _refusal()
    if refusal is not None:
        return refusal
    return Response(current_app.extensions[EXTENSION].exposition(), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = ConsoleMetrics()
    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", metrics_endpoint)
    entries_committed.connect(_on_entries, weak=False)
