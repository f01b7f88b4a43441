"""Users, their grid scopes, API tokens, server-side sessions and sign-in attempts."""

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from emergency.db import Base, UTCDateTime, utcnow


class User(Base):
    """A person who signs in, with one role and optional scopes."""

    __tablename__ = "users"
    __audit_name__ = "user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20), comment="admin|planner|dispatcher|grid_staff|"
                                      "org_admin|auditor")
    password_hash: Mapped[str] = mapped_column(String(200), info={"secret": True},
                                               comment="argon2id hash")
    org_id: Mapped[int | None] = mapped_column(Integer, comment="org_admin: their organisation")
    area_code: Mapped[str | None] = mapped_column(String(12), comment="optional district scope "
                                                  "of bureau staff")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    grids: Mapped[list["UserGrid"]] = relationship(back_populates="user",
                                                   cascade="all, delete-orphan")

    @property
    def grid_codes(self):
        """Codes of the management grids this user is assigned to."""
        return sorted(g.grid_code for g in self.grids)

    # Flask-Login protocol
    @property
    def is_authenticated(self):
        """Every loaded user is authenticated."""
        return True

    @property
    def is_anonymous(self):
        """Loaded users are never anonymous."""
        return False

    def get_id(self):
        """The id Flask-Login keeps in the session."""
        return str(self.id)


class UserGrid(Base):
    """Assignment of a grid staff member to a management grid."""

    __tablename__ = "user_grids"
    __audit_name__ = "user_grid"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    grid_code: Mapped[str] = mapped_column(ForeignKey("grids.code"), primary_key=True)

    user: Mapped[User] = relationship(back_populates="grids")


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __audit_name__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, info={"secret": True},
                                            comment="sha256 hex of the token")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[object] = mapped_column(UTCDateTime)
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """One sign-in attempt, kept to throttle repeated failures across workers."""

    __tablename__ = "login_attempts"
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="", index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, index=True)


class UserSession(Base):
    """A signed-in browser session; the cookie holds its id, this row says it is still good."""

    __tablename__ = "user_sessions"
    # Every sign-in would add an entry; revocations show up as the user's own change instead.
    __audit__ = False

    id: Mapped[str] = mapped_column(String(64), primary_key=True,
                                    comment="sha256 hex of the random id in the cookie")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime,
                                                      comment="set by sign-out, deactivation, "
                                                      "role or password change")
