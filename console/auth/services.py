"""Staff accounts, passwords and API tokens."""
from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from console.audit.chain import record_event
from console.auth.models import ROLES, ApiToken, StaffUser
from console.db import utcnow

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): the library default (64 MiB, 4 lanes)
# took 0.5 s per login on a 2-core host, which is a denial-of-service lever, not extra safety.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verifying against a real hash for unknown emails keeps response times alike, so the
# login form does not reveal which addresses exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
TOKEN_PREFIX = "sc_"
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A staff-account request that breaks a rule; the message names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def find_user(session: Session, email: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.email == normalize_email(email)))


def create_user(session: Session, email: str, role: str, password: str | None, *, name: str = "",
                actor: str = "system", team: str = "support") -> StaffUser:
    """Create a staff user and audit it; the caller's session is committed."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("email", f"{email!r} is not an email address")
    if role not in ROLES:
        raise AccountError("role", f"role must be one of {', '.join(ROLES)}")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if find_user(session, email):
        raise AccountError("email", f"a user with email {email} already exists")
    user = StaffUser(email=email, role=role, name=name, team=team,
                     password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    record_event(session, actor=actor, action="user.create", subject_type="user", subject_id=user.id,
                 details={"email": email, "role": role})
    return user


def authenticate(session: Session, email: str, password: str) -> StaffUser | None:
    """Return the active user whose password matches, else None."""
    user = find_user(session, email)
    candidate = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        ok = _hasher.verify(candidate, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.password_hash or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def end_sessions(session: Session, user: StaffUser) -> None:
    """Invalidate every cookie issued to the user (logout, disable, role change)."""
    session.execute(
        update(StaffUser).where(StaffUser.id == user.id).values(session_version=StaffUser.session_version + 1)
    )
    session.refresh(user)


def set_role(session: Session, user: StaffUser, role: str, *, actor: str) -> None:
    if role not in ROLES:
        raise AccountError("role", f"role must be one of {', '.join(ROLES)}")
    old = user.role
    user.role = role
    end_sessions(session, user)
    record_event(session, actor=actor, action="user.role_change", subject_type="user", subject_id=user.id,
                 details={"email": user.email, "from": old, "to": role})


def set_active(session: Session, user: StaffUser, active: bool, *, actor: str) -> None:
    user.active = active
    end_sessions(session, user)
    record_event(session, actor=actor, action="user.enable" if active else "user.disable",
                 subject_type="user", subject_id=user.id, details={"email": user.email})


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: StaffUser, name: str = "", *, actor: str | None = None) -> str:
    """Create an API token for the user and return it; only its hash is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name[:100], token_hash=_token_digest(token), prefix=token[:10])
    session.add(row)
    session.flush()
    record_event(session, actor=actor or user.email, action="token.create", subject_type="token",
                 subject_id=row.id, details={"user": user.email, "name": row.name, "prefix": row.prefix})
    return token


def revoke_token(session: Session, token_row: ApiToken, *, actor: str) -> None:
    token_row.revoked_at = utcnow()
    record_event(session, actor=actor, action="token.revoke", subject_type="token", subject_id=token_row.id,
                 details={"user": token_row.user.email, "prefix": token_row.prefix})


def user_for_token(session: Session, token: str) -> StaffUser | None:
    """The active user behind a bearer token, or None for an unknown or revoked one."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row.user


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StaffUser)) or 0
