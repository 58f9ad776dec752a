"""Deflection: tickets and their events, outcomes, the support rotation, the dashboard and its metrics.

Configuration (app config; each also read from the environment when not given):

| key | environment | default |
| --- | --- | --- |
| `SUPPORT_ROTATION` | `CONSOLE_SUPPORT_ROTATION` (comma-separated emails) | every active developer, by email |
| `SPRINT_DAYS` | `CONSOLE_SPRINT_DAYS` | 14 |
| `SPRINT_START` | `CONSOLE_SPRINT_START` (YYYY-MM-DD) | 2024-01-01 |
| `TEAM_CAPACITY_HOURS` | `CONSOLE_TEAM_CAPACITY_HOURS` (developer hours a week) | 200 |
| `TICKET_CATEGORIES` | `CONSOLE_TICKET_CATEGORIES` (comma-separated) | account, orders, payments, privacy, general |
"""
from __future__ import annotations

import os
from datetime import date

from console.config import ConfigError

SETTINGS = {
    "SUPPORT_ROTATION": ("CONSOLE_SUPPORT_ROTATION", ""),
    "SPRINT_DAYS": ("CONSOLE_SPRINT_DAYS", "14"),
    "SPRINT_START": ("CONSOLE_SPRINT_START", "2024-01-01"),
    "TEAM_CAPACITY_HOURS": ("CONSOLE_TEAM_CAPACITY_HOURS", "200"),
    "TICKET_CATEGORIES": ("CONSOLE_TICKET_CATEGORIES", ""),
}


def configure(config: dict) -> None:
    """Fill in this domain's settings from the environment and check them; ConfigError says what is wrong."""
    for key, (variable, default) in SETTINGS.items():
        if config.get(key) in (None, ""):
            config[key] = os.environ.get(variable, default)
    for key in ("SUPPORT_ROTATION", "TICKET_CATEGORIES"):
        if isinstance(config[key], str):
            config[key] = [item.strip() for item in config[key].split(",") if item.strip()]
    days = _number(config["SPRINT_DAYS"], int)
    if days is None or not 1 <= days <= 366:
        raise ConfigError(f"SPRINT_DAYS must be a whole number of days from 1 to 366, not {config['SPRINT_DAYS']!r}")
    config["SPRINT_DAYS"] = days
    if not isinstance(config["SPRINT_START"], date):
        try:
            config["SPRINT_START"] = date.fromisoformat(str(config["SPRINT_START"]))
        except ValueError:
            raise ConfigError(f"SPRINT_START must be a date written YYYY-MM-DD, not {config['SPRINT_START']!r}") \
                from None
    hours = _number(config["TEAM_CAPACITY_HOURS"], float)
    if hours is None or hours <= 0:
        raise ConfigError("TEAM_CAPACITY_HOURS must be a positive number of developer hours a week, not "
                          f"{config['TEAM_CAPACITY_HOURS']!r}")
    config["TEAM_CAPACITY_HOURS"] = hours


def _number(value, kind):
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


def init_app(app, admin) -> None:
    """Register this domain's views, home sections and template helpers."""
    from console.admin.home import HomeSection, add_home_section
    from console.permissions import LOG_DEV_TIME, READ_STATS, WORK_TICKETS
    from console.deflection import views_dashboard as dash
    from console.deflection.views_tickets import OnDutyView, TicketView, ticket_page_url

    configure(app.config)
    admin.add_view(TicketView(name="Start or find a ticket", category="Tickets", endpoint="tickets", url="/admin/tickets"))
    admin.add_view(OnDutyView(name="Support duty", category="Tickets", endpoint="on_duty", url="/admin/on-duty"))
    admin.add_view(dash.DashboardView(name="Deflection dashboard", category="Deflection", endpoint="deflection",
                                      url="/admin/deflection"))
    app.jinja_env.globals.setdefault("ticket_page_url", ticket_page_url)
    add_home_section(app, HomeSection(WORK_TICKETS, "deflection/home_start.html", dash.start_section, order=10))
    add_home_section(app, HomeSection(LOG_DEV_TIME, "deflection/home_duty.html", dash.duty_section, order=15))
    add_home_section(app, HomeSection(READ_STATS, "deflection/home_summary.html", dash.summary_section, order=20))
