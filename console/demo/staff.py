"""The demo staff users: every role, two agents, leads and developers (a second approver, a second on duty)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from console.auth.services import create_user, find_user, password_matches, update_account

DEMO_STAFF = (
    ("agent@example.com", "agent", "Avery Agent"),
    ("agent2@example.com", "agent", "Sam Second"),
    ("lead@example.com", "lead", "Lee Lead"),
    ("lead2@example.com", "lead", "Robin Lead"),
    ("po@example.com", "product_owner", "Pat Owner"),
    ("dev@example.com", "developer", "Dana Developer"),
    ("dev2@example.com", "developer", "Kim Developer"),
    ("admin@example.com", "admin", "Ari Admin"),
)


@dataclass
class StaffReport:
    created: int = 0
    password: str | None = None  # to print once: the random one given to new users
    reset: list[str] = field(default_factory=list)  # existing users given CONSOLE_DEMO_PASSWORD


def load_staff(session: Session) -> StaffReport:
    """Create the demo users that are missing, and report what changed.

    With CONSOLE_DEMO_PASSWORD set, every demo user gets that password, also on re-runs: each
    existing user whose password differs is changed through the audited account rules, which
    end their sessions. Without it, new users get one random password that is printed once.
    """
    configured = os.environ.get("CONSOLE_DEMO_PASSWORD")
    password = configured or secrets.token_urlsafe(9)
    report = StaffReport()
    for email, role, name in DEMO_STAFF:
        user = find_user(session, email)
        if user is None:
            create_user(session, email, role, password, name=name, actor="demo-data")
            report.created += 1
        elif configured and not password_matches(user, configured):
            update_account(session, user, {"password": configured}, actor="demo-data")
            report.reset.append(user.email)
    session.commit()
    if not configured and report.created:
        report.password = password
    return report
