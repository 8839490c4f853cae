"""Staff accounts for the console: users with argon2id passwords, server-side sessions, login throttling.

A session is a random 256-bit id in an HttpOnly cookie; the table keeps only its SHA-256, so a copy of
the table logs no one in, and deleting the row revokes it at once. Each session has its own CSRF token.
Failed logins are rows in the database, so every process sharing it applies the same limit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from orderwire.app.runtime import Runtime
from orderwire.store.db import reading
from orderwire.store.tables import login_failures, staff_sessions, users

LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_FAILURES_ALLOWED = 5
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# A hash of a password nobody has: unknown emails cost as much time as known ones.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    """Admins do everything, including user management; agents work cases and conversations."""

    ADMIN = "admin"
    AGENT = "agent"


@dataclass(frozen=True)
class StaffUser:
    """A signed-in member of staff."""

    id: int
    email: str
    name: str
    role: Role

    @property
    def is_admin(self) -> bool:
        """True for admins."""
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class StaffSession:
    """A live session: who, and the token its forms must carry."""

    user: StaffUser
    csrf_token: str


class LoginError(Exception):
    """Wrong email or password, or a disabled account (the message never says which)."""


class TooManyAttempts(LoginError):
    """Too many failed logins for this email from this address; try again later."""


class UserError(ValueError):
    """A user cannot be created as asked (duplicate email, short password, unknown role)."""


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    """Whether the password fits the stored argon2 hash."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively, without surrounding spaces."""
    return email.strip().lower()


def create_user(rt: Runtime, email: str, password: str, role: str, name: str = "") -> int:
    """A new staff user; raises UserError when the email exists or the password is too short."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise UserError("give a valid email address")
    if role not in {r.value for r in Role}:
        raise UserError(f"role must be one of {', '.join(r.value for r in Role)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    try:
        with rt.engine.begin() as conn:
            result = conn.execute(
                users.insert().values(
                    email=email,
                    name=name.strip()[:200],
                    role=role,
                    password_hash=hash_password(password),
                    disabled=False,
                    created_at=rt.clock(),
                )
            )
    except sa.exc.IntegrityError as exc:
        raise UserError(f"a user with email {email} exists") from exc
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def list_users(rt: Runtime) -> list[dict[str, Any]]:
    """Every staff user, for the admin page and the assignee pickers."""
    with reading(rt.engine) as conn:
        rows = conn.execute(sa.select(users).order_by(users.c.email)).all()
    return [
        {
            "id": r.id,
            "email": r.email,
            "name": r.name or r.email,
            "role": r.role,
            "disabled": r.disabled,
            "created_at": r.created_at,
        }
        for r in rows
    ]


def set_disabled(rt: Runtime, user_id: int, disabled: bool) -> bool:
    """Disable (and sign out) or re-enable a user; False when there is no such user."""
    with rt.engine.begin() as conn:
        done = conn.execute(users.update().where(users.c.id == user_id).values(disabled=disabled)).rowcount
        if disabled:
            conn.execute(staff_sessions.delete().where(staff_sessions.c.user_id == user_id))
    return bool(done)


def _throttle_key(email: str, client: str) -> str:
    return hashlib.sha256(f"{normalise_email(email)}\x00{client}".encode()).hexdigest()


def log_in(rt: Runtime, email: str, password: str, client: str) -> tuple[str, StaffSession]:
    """A new session (cookie value, session) for correct credentials; raises LoginError or TooManyAttempts.

    At most LOGIN_FAILURES_ALLOWED failures per email and client address in LOGIN_WINDOW.
    """
    now = rt.clock()
    key = _throttle_key(email, client)
    with rt.engine.begin() as conn:
        conn.execute(login_failures.delete().where(login_failures.c.at < now - LOGIN_WINDOW))
        recent = conn.execute(
            sa.select(sa.func.count())
            .select_from(login_failures)
            .where(login_failures.c.key_hash == key, login_failures.c.at >= now - LOGIN_WINDOW)
        ).scalar_one()
    if recent >= LOGIN_FAILURES_ALLOWED:
        raise TooManyAttempts("too many failed attempts; try again in 15 minutes")
    with reading(rt.engine) as conn:
        row = conn.execute(sa.select(users).where(users.c.email == normalise_email(email))).first()
    matches = password_matches(row.password_hash if row is not None else _DUMMY_HASH, password)
    if row is None or not matches or row.disabled:
        with rt.engine.begin() as conn:
            conn.execute(login_failures.insert().values(key_hash=key, at=now))
        raise LoginError("wrong email or password")
    with rt.engine.begin() as conn:
        conn.execute(login_failures.delete().where(login_failures.c.key_hash == key))
        if _hasher.check_needs_rehash(row.password_hash):
            conn.execute(
                users.update().where(users.c.id == row.id).values(password_hash=hash_password(password))
            )
    return start_session(rt, int(row.id))


def start_session(rt: Runtime, user_id: int) -> tuple[str, StaffSession]:
    """A fresh session for the user: the cookie value and the session."""
    now = rt.clock()
    cookie = secrets.token_urlsafe(32)  # 256 bits
    csrf = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=rt.settings.staff_session_hours)
    with rt.engine.begin() as conn:
        conn.execute(staff_sessions.delete().where(staff_sessions.c.expires_at <= now))  # bounded table
        conn.execute(
            staff_sessions.insert().values(
                id_hash=_digest(cookie),
                user_id=user_id,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=expires,
            )
        )
    found = session_for(rt, cookie)
    if found is None:
        raise LoginError("account unavailable")
    return cookie, found


def session_for(rt: Runtime, cookie: str | None) -> StaffSession | None:
    """The live session behind a cookie value, or None (unknown, expired, or the user is disabled)."""
    if not cookie or len(cookie) > 100:
        return None
    now = rt.clock()
    with reading(rt.engine) as conn:
        row = conn.execute(
            sa.select(staff_sessions.c.csrf_token, staff_sessions.c.expires_at, users)
            .join(users, users.c.id == staff_sessions.c.user_id)
            .where(staff_sessions.c.id_hash == _digest(cookie))
        ).first()
    if row is None or row.expires_at <= now or row.disabled:
        return None
    user = StaffUser(int(row.id), row.email, row.name or row.email, Role(row.role))
    return StaffSession(user, row.csrf_token)


def log_out(rt: Runtime, cookie: str | None) -> None:
    """End the session behind the cookie (and sweep expired ones)."""
    with rt.engine.begin() as conn:
        if cookie:
            conn.execute(staff_sessions.delete().where(staff_sessions.c.id_hash == _digest(cookie)))
        conn.execute(staff_sessions.delete().where(staff_sessions.c.expires_at <= rt.clock()))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
