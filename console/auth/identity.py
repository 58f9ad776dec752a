"""Who a request acts as: what Flask-Login and the console ask of a staff member, on the row or off it.

A browser request is signed in as a `SignedInUser`: the few columns a request reads, copied from the
staff row by one SELECT made as the request begins (console/auth/__init__.py). Loading the whole row through
the ORM cost about 130 more Python calls on every page, for an object no page changes. It is read-only;
code that changes the account works on the row by its id (`services.end_sessions` at logout).
"""
from __future__ import annotations


class StaffIdentity:
    """Flask-Login's protocol and the console's reading of a staff member, for the row and for its copy."""

    __slots__ = ()  # the row or the copy holds id, email, name, role, team, active and session_version

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # What the session cookie carries: a version that no longer matches the row's means the user logged
        # out, was disabled or changed role since, so the cookie is dead.
        return f"{self.id}:{self.session_version}"

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __str__(self) -> str:
        return self.email


class SignedInUser(StaffIdentity):
    """The staff row's columns that a request reads, as they were when the request began: a copy, whose
    changes write nothing."""

    COLUMNS = ("id", "email", "name", "role", "team", "active", "session_version")
    __slots__ = (*COLUMNS, "is_active")
    # Plain values, not StaffIdentity's properties: every permission check of a page reads them.
    is_authenticated = True
    is_anonymous = False

    def __init__(self, id: int, email: str, name: str, role: str, team: str, active: bool,  # noqa: A002
                 session_version: int):
        self.id, self.email, self.name, self.role = id, email, name, role
        self.team, self.active, self.session_version = team, active, session_version
        self.is_active = active

    def __repr__(self) -> str:
        return f"<SignedInUser {self.id} {self.email} ({self.role})>"
