"""The demo staff users: every role, two agents, leads and developers (a second approver, a second on duty)."""
from __future__ import annotations

import os
import secrets

from sqlalchemy.orm import Session

from console.auth.services import create_user, find_user, hash_password

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


def load_staff(session: Session) -> tuple[int, str | None]:
    """Create the demo users that are missing; return (created, password to print or None).

    With CONSOLE_DEMO_PASSWORD set, every demo user gets that password, also on re-runs;
    without it, new users get one random password that is printed once.
    """
    configured = os.environ.get("CONSOLE_DEMO_PASSWORD")
    password = configured or secrets.token_urlsafe(9)
    created = 0
    for email, role, name in DEMO_STAFF:
        user = find_user(session, email)
        if user is None:
            create_user(session, email, role, password, name=name, actor="demo-data")
            created += 1
        elif configured:
            user.password_hash = hash_password(configured)
    session.commit()
    if configured:
        return created, None
    return created, password if created else None
