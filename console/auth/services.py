"""Staff accounts, passwords and API tokens."""
from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from console.audit.chain import AuditUnavailable, append, record_event
from console.auth.identity import SignedInUser, StaffIdentity
from console.auth.models import ROLES, ApiToken, StaffUser
from console.db import utcnow
from console.direct import send

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


_USERS, _TOKENS = StaffUser.__table__, ApiToken.__table__
_ACTING = [_USERS.c[name] for name in SignedInUser.COLUMNS]
_ACTOR = select(*_ACTING).where(_USERS.c.email == bindparam("email"))
_BEARER = (select(*_ACTING, _TOKENS.c.issued_by_id).select_from(_TOKENS.join(_USERS, _TOKENS.c.user_id == _USERS.c.id))
           .where(_TOKENS.c.token_hash == bindparam("digest"), _TOKENS.c.revoked_at.is_(None)))


def acting_user(conn: Connection, email: str) -> SignedInUser | None:
    """The staff user of this email as a request or command acts as them (a copy of their row, one statement:
    loading the ORM object cost a CLI run about 500 Python calls); None when there is none."""
    row = send(conn, _ACTOR, {"email": normalize_email(email)}).first()
    return None if row is None else SignedInUser(*row)


def bearer_user(conn: Connection, token: str) -> tuple[SignedInUser, int | None] | None:
    """(the user a live bearer token acts as, who issued it), or None for an unknown or revoked token or a
    disabled user: the one rule of which tokens are live, in one statement that loads no ORM object."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = send(conn, _BEARER, {"digest": _token_digest(token)}).first()
    if row is None or not row.active:
        return None
    return SignedInUser(*row[:-1]), row.issued_by_id


def clean_email(email) -> str:
    """The normalised email, or AccountError naming the field when it is not an address."""
    email = normalize_email(email if isinstance(email, str) else "")
    if not email:
        raise AccountError("email", "an email address is required")
    try:
        validate_email(email, check_deliverability=False)  # the syntax only: staff domains need no DNS here
    except EmailNotValidError as exc:
        raise AccountError("email", f"{email!r} is not an email address: {exc}") from None
    if len(email) > 254:
        raise AccountError("email", "an email address is at most 254 characters")
    return email


def clean_role(role) -> str:
    if role not in ROLES:
        raise AccountError("role", f"role must be one of {', '.join(ROLES)}")
    return role


def clean_password(password) -> str:
    if not isinstance(password, str) or not password:
        raise AccountError("password", "a password is required")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return password


def _text_cleaner(field: str, limit: int, *, required: bool = False):
    def clean(value) -> str:
        value = (value if isinstance(value, str) else "").strip()
        if required and not value:
            raise AccountError(field, f"{field} is required")
        if len(value) > limit:
            raise AccountError(field, f"{field} is at most {limit} characters")
        return value

    return clean


def _clean_active(value) -> bool:
    if not isinstance(value, bool):
        raise AccountError("active", "enabled must be true or false")
    return value


# Each field of a staff account an admin may change, with its rule.
ACCOUNT_FIELDS = {
    "email": clean_email, "name": _text_cleaner("name", 200), "team": _text_cleaner("team", 60, required=True),
    "role": clean_role, "password": clean_password, "active": _clean_active,
}


def create_user(session: Session, email: str, role: str, password: str, *, name: str = "",
                actor: str = "system", team: str = "support", active: bool = True) -> StaffUser:
    """Create a staff user and audit it; the caller's session is committed."""
    email = clean_email(email)
    role = clean_role(role)
    password = clean_password(password)
    name, team = ACCOUNT_FIELDS["name"](name), ACCOUNT_FIELDS["team"](team)
    if find_user(session, email):
        raise AccountError("email", f"a user with email {email} already exists")
    user = StaffUser(email=email, role=role, name=name, team=team, active=active,
                     password_hash=hash_password(password))
    session.add(user)
    session.flush()
    record_event(session, actor=actor, action="user.create", subject_type="user", subject_id=user.id,
                 details={"email": email, "role": role, "name": name, "team": team, "active": active})
    return user


def _verifies(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        return False


def password_matches(user: StaffUser, password: str) -> bool:
    """Whether the user's stored password is this one."""
    return bool(user.password_hash) and _verifies(user.password_hash, password)


def authenticate(session: Session, email: str, password: str) -> StaffUser | None:
    """Return the active user whose password matches, else None."""
    user = find_user(session, email)
    ok = _verifies(user.password_hash if user else None, password)
    if not ok or user is None or not user.password_hash or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def end_sessions(session: Session, user: StaffIdentity) -> None:
    """Invalidate every cookie issued to the user (logout, disable, role change, new password)."""
    session.execute(
        update(StaffUser).where(StaffUser.id == user.id).values(session_version=StaffUser.session_version + 1)
    )
    if isinstance(user, StaffUser):  # a request's SignedInUser is a copy of the row as the request began
        session.refresh(user)


# How each change is audited: the action, and whether it ends the user's sessions.
_CHANGE_ACTIONS = {"email": "user.email_change", "name": "user.name_change", "team": "user.team_change",
                   "role": "user.role_change", "password": "user.password_change"}
_ENDS_SESSIONS = ("role", "password", "active")


def _clean_changes(session: Session, user: StaffUser, changes: dict) -> dict:
    """Every change checked against its rule before anything is written (AccountError names the field)."""
    unknown = sorted(set(changes) - set(ACCOUNT_FIELDS))
    if unknown:
        raise AccountError(unknown[0], f"{unknown[0]} is not a field of a staff account")
    cleaned = {field: ACCOUNT_FIELDS[field](value) for field, value in changes.items()}
    email = cleaned.get("email", user.email)
    if email != user.email and find_user(session, email) is not None:
        raise AccountError("email", f"a user with email {email} already exists")
    return cleaned


def _revoke_all_tokens(session: Session, user: StaffUser) -> list[str]:
    """Revoke every live token of the user for good (a later enable does not bring them back)."""
    live = ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
    prefixes = list(session.scalars(select(ApiToken.prefix).where(*live).order_by(ApiToken.id)))
    session.execute(update(ApiToken).where(*live).values(revoked_at=utcnow()).execution_options(
        synchronize_session=False))
    return prefixes


def _audit_entries(user: StaffUser, old: dict, cleaned: dict, revoked: list[str] | None) -> list[tuple[str, dict]]:
    entries = []
    for field, value in cleaned.items():
        if field == "password":  # never the password or its hash: only that it changed
            entries.append((_CHANGE_ACTIONS[field], {"email": user.email, "change": "password changed"}))
        elif field == "active":
            details = {"email": user.email, "from": old[field], "to": value}
            if revoked is not None:
                details["tokens_revoked"] = revoked
            entries.append(("user.enable" if value else "user.disable", details))
        else:
            entries.append((_CHANGE_ACTIONS[field], {"email": user.email, "from": old[field], "to": value}))
    return entries


def update_account(session: Session, user: StaffUser, changes: dict, *, actor: str) -> list[str]:
    """Apply changes to a staff account and audit each one; return the fields that changed.

    `changes` maps fields of ACCOUNT_FIELDS to new values; a password given is always set. A new
    role or password, or a disable, ends the user's sessions; a disable also revokes every token.
    Everything is one transaction, committed here: all of it with its audit entries, or nothing.
    """
    cleaned = _clean_changes(session, user, changes)
    cleaned = {field: value for field, value in cleaned.items()
               if field == "password" or getattr(user, field) != value}
    if not cleaned:
        return []
    old = {field: getattr(user, field) for field in cleaned if field != "password"}
    for field, value in cleaned.items():
        if field == "password":
            user.password_hash = hash_password(value)
        else:
            setattr(user, field, value)
    session.flush()
    revoked = _revoke_all_tokens(session, user) if cleaned.get("active") is False else None
    entries = _audit_entries(user, old, cleaned, revoked)
    if any(field in cleaned for field in _ENDS_SESSIONS):
        end_sessions(session, user)
    try:
        for action, details in entries:
            append(session, actor=actor, action=action, subject_type="user", subject_id=user.id, details=details)
        session.commit()
    except Exception as exc:  # no audit, no change
        session.rollback()
        raise AuditUnavailable(f"the audit trail could not be written: {exc.__class__.__name__}") from exc
    return list(cleaned)


def set_role(session: Session, user: StaffUser, role: str, *, actor: str) -> None:
    update_account(session, user, {"role": role}, actor=actor)


def set_active(session: Session, user: StaffUser, active: bool, *, actor: str) -> None:
    update_account(session, user, {"active": active}, actor=actor)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: StaffUser, name: str = "", *,
                 actor: StaffIdentity | str | None = None) -> str:
    """Create an API token for the user and return it; only its hash is stored.

    `actor` issues it: a staff user (four-eyes then counts runs made with the token as theirs
    too), a name such as "cli" for a command with no console identity, or None for the user.
    """
    actor = user if actor is None else actor
    issuer = actor if isinstance(actor, StaffIdentity) else None
    # Locked, so that a token cannot slip in beside a disable that is revoking the user's tokens.
    active = session.scalar(select(StaffUser.active).where(StaffUser.id == user.id).with_for_update())
    if not active:
        raise AccountError("email", f"{user.email} is disabled; enable the account before issuing a token")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name[:100], token_hash=_token_digest(token), prefix=token[:10],
                   issued_by_id=issuer.id if issuer is not None else None)
    session.add(row)
    session.flush()
    record_event(session, actor=issuer.email if issuer is not None else actor, action="token.create",
                 subject_type="token", subject_id=row.id,
                 details={"user": user.email, "name": row.name, "prefix": row.prefix,
                          "issued_by_id": row.issued_by_id})
    return token


def revoke_token(session: Session, token_row: ApiToken, *, actor: str) -> None:
    token_row.revoked_at = utcnow()
    record_event(session, actor=actor, action="token.revoke", subject_type="token", subject_id=token_row.id,
                 details={"user": token_row.user.email, "prefix": token_row.prefix})


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StaffUser)) or 0
