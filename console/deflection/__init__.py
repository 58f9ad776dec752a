"""Deflection: tickets and their events, outcomes, the support rotation, the dashboard and its metrics.

Configuration (app config; each also read from the environment when not given):

| key | environment | default |
| --- | --- | --- |
| `SUPPORT_ROTATION` | `CONSOLE_SUPPORT_ROTATION` (comma-separated emails) | every active developer, by email |
| `SPRINT_DAYS` | `CONSOLE_SPRINT_DAYS` | 14 |
| `SPRINT_START` | `CONSOLE_SPRINT_START` (YYYY-MM-DD) | 2024-01-01 |
| `CATEGORY_TEAMS` | `CONSOLE_CATEGORY_TEAMS` (`category=team` pairs, comma-separated) | none: one rotation for everyone |
| `DUTY_BY` | `CONSOLE_DUTY_BY` (`person`: one developer per team each sprint; `team`: teams take turns) | person |
| `DIGEST_TIME` | `CONSOLE_DIGEST_TIME` (HH:MM in CONSOLE_TIMEZONE, or `off`) | 09:00 |
| `TEAM_CAPACITY_HOURS` | `CONSOLE_TEAM_CAPACITY_HOURS` (developer hours a week) | 200 |
| `TICKET_CATEGORIES` | `CONSOLE_TICKET_CATEGORIES` (comma-separated) | the categories of the product package's demo ticket story (the demo shop: account, orders, payments, privacy, general); without one: account, billing, privacy, general |
| `TICKET_REF_PATTERN` | `TICKET_REF_PATTERN` (a regular expression a whole reference matches) | 1 to 40 of `A-Za-z0-9-_#.` |
| `HELPDESK_URL_TEMPLATE` | `HELPDESK_URL_TEMPLATE` (read by console.config) | none: references are not links |
"""
from __future__ import annotations

import os
from datetime import date

from console.config import ConfigError
from console.deflection.digest import parse_digest_time
from console.deflection.ticket_refs import check_helpdesk_template, compile_ref_pattern, helpdesk_url

SETTINGS = {
    "SUPPORT_ROTATION": ("CONSOLE_SUPPORT_ROTATION", ""),
    "SPRINT_DAYS": ("CONSOLE_SPRINT_DAYS", "14"),
    "SPRINT_START": ("CONSOLE_SPRINT_START", "2024-01-01"),
    "CATEGORY_TEAMS": ("CONSOLE_CATEGORY_TEAMS", ""),
    "DUTY_BY": ("CONSOLE_DUTY_BY", "person"),
    "DIGEST_TIME": ("CONSOLE_DIGEST_TIME", "09:00"),
    "TEAM_CAPACITY_HOURS": ("CONSOLE_TEAM_CAPACITY_HOURS", "200"),
    "TICKET_CATEGORIES": ("CONSOLE_TICKET_CATEGORIES", ""),
    "TICKET_REF_PATTERN": ("TICKET_REF_PATTERN", ""),
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
    config["DIGEST_TIME"] = parse_digest_time(config["DIGEST_TIME"])
    _check_ticket_links(config)


def _check_ticket_links(config: dict) -> None:
    """TICKET_REF_PATTERN and HELPDESK_URL_TEMPLATE, checked once at start-up rather than on every ticket."""
    pattern = str(config.get("TICKET_REF_PATTERN") or "").strip()
    config["TICKET_REF_PATTERN"] = pattern
    if pattern:
        try:
            compile_ref_pattern(pattern)
        except ValueError as exc:
            raise ConfigError(f"TICKET_REF_PATTERN {exc}: {pattern[:80]!r}") from None
    template = str(config.get("HELPDESK_URL_TEMPLATE") or "").strip()
    config["HELPDESK_URL_TEMPLATE"] = template
    if template:
        try:
            check_helpdesk_template(template)
        except ValueError as exc:
            raise ConfigError(f"HELPDESK_URL_TEMPLATE {exc}, not {template[:120]!r}") from None


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
    app.jinja_env.globals.setdefault("helpdesk_url", helpdesk_url)
    add_home_section(app, HomeSection(WORK_TICKETS, "deflection/home_start.html", dash.start_section, order=10))
    add_home_section(app, HomeSection(LOG_DEV_TIME, "deflection/home_duty.html", dash.duty_section, order=15))
    add_home_section(app, HomeSection(READ_STATS, "deflection/home_summary.html", dash.summary_section, order=20))
