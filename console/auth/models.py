"""Staff users and their API tokens."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.auth.identity import StaffIdentity
from console.db import ConsoleBase, utcnow

ROLES = ("agent", "lead", "product_owner", "developer", "admin")


class StaffUser(StaffIdentity, ConsoleBase):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    team: Mapped[str] = mapped_column(String(60), default="support")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout, disable and role change; a cookie carrying an older version is dead.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user", lazy="raise",
                                                    foreign_keys="ApiToken.user_id")


class ApiToken(ConsoleBase):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    # Only a SHA-256 of the token is kept; the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Who issued it: runs requested with it count as theirs too for four-eyes. None when it came
    # from the command line, which acts with no console identity.
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    user: Mapped[StaffUser] = relationship(back_populates="tokens", lazy="joined", foreign_keys=[user_id])
    issued_by: Mapped[StaffUser | None] = relationship(lazy="joined", foreign_keys=[issued_by_id])

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'token'})"
