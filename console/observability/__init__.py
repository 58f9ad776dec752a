"""Observability: request ids, JSON logs and Prometheus metrics, for the team's own monitoring."""
from __future__ import annotations

from flask import Flask

from console.observability import metrics, requests


def init_app(app: Flask, admin=None) -> None:
    requests.init_app(app)
    metrics.init_app(app)
