"""`demo-data`: the product package's demo data, the demo staff and the ticket history, loaded idempotently.

The product's rows come from its package's `load_demo_data` hook (PRODUCT_PACKAGE; the demo shop has one):
the console names no product table.
"""
from __future__ import annotations

from flask import Flask

from console.db import console_session, databases
from console.demo.staff import DEMO_STAFF, load_staff


def load_demo(app: Flask, *, customers: int, seed: int, history_days: int, progress: bool = False) -> list[str]:
    """Load everything the demo needs and return lines to print.

    ValueError (NoDemoData first, before anything is written) when the product package has no demo data.
    """
    from console.demo.history import load_history

    product = app.extensions["product"]
    report = product.load_demo_data(databases(app).target_engine, customers=customers, seed=seed, progress=progress)
    staff = load_staff(console_session())
    report.append(f"Staff: {staff.created} demo users created" if staff.created else "Staff: demo users already exist")
    if staff.reset:
        report.append(f"Staff: set CONSOLE_DEMO_PASSWORD as the password of {len(staff.reset)} existing demo users "
                      f"(audited; their sessions ended): {', '.join(staff.reset)}")
    if staff.password:
        report.append(f"Demo password (shown once; set CONSOLE_DEMO_PASSWORD to choose it): {staff.password}")
    app.extensions["demo_password"] = staff.password
    return report + load_history(app, seed=seed, history_days=history_days, progress=progress)


def demo_banner(url: str, app: Flask) -> str:
    """A short box with the URL and the logins."""
    password = app.extensions.get("demo_password") or "(your CONSOLE_DEMO_PASSWORD, or the one printed on the first run)"
    lines = [f"Support Console demo: {url}", ""]
    lines += [f"  {email:<20} {role.replace('_', ' ')}" for email, role, _ in DEMO_STAFF]
    lines += ["", f"  password: {password}", "", "Try: log in as agent@example.com and unlock locked@example.com"]
    width = max(len(line) for line in lines) + 2
    return "\n".join(["┌" + "─" * width + "┐"] + [f"│ {line:<{width - 2}} │" for line in lines] + ["└" + "─" * width + "┘"])
