"""Accounts: people who log in, their argon2 password hashes, roles, EPCI scope and API tokens.

Passwords are hashed with argon2id (memory-hard). After :data:`MAX_FAILURES` wrong passwords in a
row an account is locked for :data:`LOCKOUT`; the lock and the counter clear at the next good
login. A wrong login and a wrong password give the same answer, so logins cannot be probed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .commands import Actor
from .errors import Conflict, Forbidden, Invalid, NotFound
from .persistence.models import ApiToken, User
from .roles import ALL_ROLES

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 8

_hasher = PasswordHasher()
# Verified against when the login is unknown, so a wrong login costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")


class LoginFailed(Forbidden):
    """Wrong login or password (deliberately not saying which)."""


class AccountLocked(Forbidden):
    """Too many failed logins: ``until`` says when the next try is allowed."""

    def __init__(self, message: str, *, until: datetime):
        super().__init__(message)
        self.until = until


@dataclass(frozen=True)
class Account:
    """A user as the web app sees it (no hash)."""

    id: int
    login: str
    full_name: str
    email: str
    roles: tuple[str, ...]
    epci: tuple[str, ...]
    active: bool
    locked_until: datetime | None

    @property
    def actor(self) -> Actor:
        return Actor(self.login, frozenset(self.roles), frozenset(self.epci))

    @classmethod
    def of(cls, row: User) -> Account:
        return cls(
            row.id,
            row.login,
            row.full_name,
            row.email,
            tuple(row.roles or ()),
            tuple(row.epci or ()),
            row.active,
            row.locked_until,
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_fields(login: str, roles, password: str | None) -> None:
    errors: dict[str, list[str]] = {}
    if not login or len(login) > 120 or any(c.isspace() for c in login):
        errors["login"] = ["Identifiant requis, sans espace (120 caractères au plus)."]
    unknown = sorted(set(roles) - set(ALL_ROLES))
    if unknown:
        errors["roles"] = [f"Rôles inconnus : {', '.join(unknown)}."]
    if password is not None and len(password) < MIN_PASSWORD:
        errors["password"] = [f"Le mot de passe doit avoir au moins {MIN_PASSWORD} caractères."]
    if errors:
        raise Invalid("Corrigez les champs indiqués.", errors=errors)


class AccountService:
    """User accounts over the engine's database (each call is one transaction)."""

    def __init__(self, db, clock):
        self.db = db
        self.clock = clock

    def create(self, login: str, password: str, *, roles=(), epci=(), full_name: str = "", email: str = "") -> Account:
        _check_fields(login, roles, password)
        with self.db.sessions.begin() as session:
            if session.scalar(select(User).where(User.login == login)) is not None:
                raise Conflict(f"L'identifiant {login} existe déjà : choisissez-en un autre.")
            row = User(
                login=login,
                full_name=full_name,
                email=email,
                password_hash=hash_password(password),
                roles=sorted(set(roles)),
                epci=sorted(set(epci)),
                active=True,
                failed_logins=0,
                created_at=self.clock.now(),
            )
            session.add(row)
            session.flush()
            return Account.of(row)

    def update(
        self,
        login: str,
        *,
        roles=None,
        epci=None,
        full_name=None,
        email=None,
        active=None,
        password: str | None = None,
    ) -> Account:
        _check_fields(login, roles or (), password or None)
        with self.db.sessions.begin() as session:
            row = self._row(session, login)
            if roles is not None:
                row.roles = sorted(set(roles))
            if epci is not None:
                row.epci = sorted(set(epci))
            if full_name is not None:
                row.full_name = full_name
            if email is not None:
                row.email = email
            if active is not None:
                row.active = active
            if password:
                row.password_hash = hash_password(password)
                row.failed_logins, row.locked_until = 0, None
            return Account.of(row)

    def get(self, login: str) -> Account:
        with self.db.sessions() as session:
            return Account.of(self._row(session, login))

    def find(self, login: str) -> Account | None:
        with self.db.sessions() as session:
            row = session.scalar(select(User).where(User.login == login))
            return Account.of(row) if row is not None else None

    def list(self) -> list[Account]:
        with self.db.sessions() as session:
            return [Account.of(row) for row in session.scalars(select(User).order_by(User.login))]

    def with_role(self, role: str) -> list[Account]:
        return [account for account in self.list() if role in account.roles and account.active]

    def authenticate(self, login: str, password: str) -> Account:
        """The account for a good login and password; :class:`LoginFailed` or :class:`AccountLocked` else."""
        now = self.clock.now()
        failure: Forbidden | None = None
        with self.db.sessions.begin() as session:
            row = session.scalar(select(User).where(User.login == login))
            if row is None or not row.active:
                _verify(_DUMMY_HASH, password)
                raise LoginFailed("Identifiant ou mot de passe incorrect.")
            if row.locked_until is not None and row.locked_until > now:
                raise AccountLocked(
                    "Trop d'essais infructueux : compte verrouillé temporairement.", until=row.locked_until
                )
            if _verify(row.password_hash, password):
                row.failed_logins, row.locked_until = 0, None
                if _hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = hash_password(password)
                return Account.of(row)
            # A failure is counted (committed) before it is reported.
            row.failed_logins = (row.failed_logins or 0) + 1
            if row.failed_logins >= MAX_FAILURES:
                row.locked_until = now + LOCKOUT
                row.failed_logins = 0
                failure = AccountLocked(
                    "Trop d'essais infructueux : compte verrouillé temporairement.", until=row.locked_until
                )
            else:
                failure = LoginFailed("Identifiant ou mot de passe incorrect.")
        raise failure

    # -- API tokens ------------------------------------------------------------------------------

    def create_token(self, login: str, label: str = "") -> str:
        """A new API token for ``login``; the clear value is returned once and never stored."""
        token = secrets.token_urlsafe(32)
        with self.db.sessions.begin() as session:
            row = self._row(session, login)
            session.add(
                ApiToken(
                    user_id=row.id,
                    token_hash=_token_hash(token),
                    label=label,
                    created_at=self.clock.now(),
                    revoked=False,
                )
            )
        return token

    def revoke_tokens(self, login: str, label: str | None = None) -> int:
        """Revoke ``login``'s live tokens (only those labelled ``label`` when given); returns how many."""
        with self.db.sessions.begin() as session:
            user_id = self._row(session, login).id
            query = select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
            if label is not None:
                query = query.where(ApiToken.label == label)
            rows = session.scalars(query).all()
            for row in rows:
                row.revoked = True
            return len(rows)

    def by_token(self, token: str) -> Account:
        with self.db.sessions() as session:
            found = session.execute(
                select(User)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked.is_(False))
            ).scalar()
            if found is None or not found.active:
                raise LoginFailed("Jeton d'API inconnu ou révoqué.")
            return Account.of(found)

    @staticmethod
    def _row(session: Session, login: str) -> User:
        row = session.scalar(select(User).where(User.login == login))
        if row is None:
            raise NotFound(f"L'utilisateur {login} n'existe pas.")
        return row


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
