"""Accounts: people who log in, their argon2 password hashes, roles, EPCI scope and API tokens.

Passwords are hashed with argon2id (memory-hard). Failed logins are throttled by client and by
(client, login) (:mod:`.throttle`), never by account: an outsider cannot lock a person out, and
a wrong login and a wrong password give the same answer, in the same time, so logins cannot be
probed. ``session_version`` is bumped to end every web session of a person (see :meth:`end_sessions`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from .commands import Actor
from .errors import Conflict, Forbidden, Invalid, NotFound
from .persistence.models import ApiToken, User, UserRole
from .roles import ALL_ROLES
from .throttle import PER_LOGIN, LoginThrottle

#: failures of one login from one client before that client is refused for it
MAX_FAILURES = PER_LOGIN
MIN_PASSWORD = 8
#: argon2 hashes the whole password: a bound keeps one request from costing seconds
MAX_PASSWORD = 1024
#: a login appears in URLs (``/admin/utilisateurs/<login>``): lower-case letters, digits, ``._-``
LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}")

_hasher = PasswordHasher()
#: Password hashing and checking (argon2: memory-hard, 64 MiB and about 130 ms of CPU each) run
#: here, at most :data:`PASSWORD_WORKERS` at once per process whatever the number of request
#: threads, which bounds their memory; argon2 releases the GIL, so the threads serving other
#: requests go on meanwhile. A bound below gunicorn's threads (8, gunicorn.conf.py) was tried (1,
#: then 4): logins waiting for it held request threads, and a burst queued every page behind
#: them (benchmarks/README.md, deadline day); so it matches the threads.
PASSWORD_WORKERS = 8
_PASSWORDS = ThreadPoolExecutor(PASSWORD_WORKERS, thread_name_prefix="argon2")
# Verified against when the login is unknown, so a wrong login costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")


class LoginFailed(Forbidden):
    """Wrong login or password (deliberately not saying which)."""


class AccountLocked(Forbidden):
    """Too many failed logins from this client (for this login, or for any): ``until`` says when
    the next try is allowed. The account itself is never locked."""

    def __init__(self, message: str, *, until: datetime):
        super().__init__(message, code="login.throttled", params={"until": until})
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
    session_version: int
    #: the association of a porteur who registered or was invited (None for other accounts)
    organisation_id: int | None = None

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
            row.session_version or 0,
            row.organisation_id,
        )


def hash_password(password: str) -> str:
    return _PASSWORDS.submit(_hasher.hash, password).result()


def check_password(password: str) -> None:
    """:class:`Invalid` when ``password`` is too short or too long for a new password."""
    _check_fields(None, (), password)


def check_new_login(login: str, password: str) -> None:
    """:class:`Invalid` naming the login and the password when they cannot make a new account."""
    _check_fields(login, (), password)


def role_rows(user_id: int, roles, epci) -> list[dict]:
    """The ``user_role`` rows of an account: per role, one with ``epci = ''`` (the role anywhere:
    regional tasks) and one per EPCI of the scope (local tasks). Migration 0009 expands the same way."""
    return [{"role": role, "epci": code, "user_id": user_id}
            for role in sorted(set(roles or ())) for code in sorted({"", *(epci or ())})]


def _sync_roles(session: Session, row: User) -> None:
    """Rewrite ``row``'s ``user_role`` rows from its roles and scope, in the caller's transaction.

    Every write of ``User.roles`` or ``User.epci`` goes through here: the notifier finds the
    people of a task in ``user_role`` only (see :mod:`.notifications_store`).
    """
    session.flush()  # the row's id, and its JSON lists, as they will be committed
    session.execute(delete(UserRole).where(UserRole.user_id == row.id))
    rows = role_rows(row.id, row.roles, row.epci)
    if rows:
        session.execute(insert(UserRole), rows)


def _check_fields(login: str | None, roles, password: str | None) -> None:
    """Raise :class:`Invalid` naming each wrong field. ``login`` is checked when given (a new
    account): logins made before the rule keep working. ``params["fields"]`` maps each wrong
    field to the code of its message, for the web layer to translate."""
    errors: dict[str, list[str]] = {}
    codes: dict[str, str] = {}
    if login is not None and not LOGIN_PATTERN.fullmatch(login):
        errors["login"] = [
            "2 to 63 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit."
        ]
        codes["login"] = "account.login_format"
    unknown = sorted(set(roles) - set(ALL_ROLES))
    if unknown:
        errors["roles"] = [f"Unknown roles: {', '.join(unknown)}."]
        codes["roles"] = "account.unknown_roles"
    if password is not None and len(password) < MIN_PASSWORD:
        errors["password"] = [f"The password needs at least {MIN_PASSWORD} characters."]
        codes["password"] = "account.password_short"
    elif password is not None and len(password) > MAX_PASSWORD:
        errors["password"] = [f"The password may have at most {MAX_PASSWORD} characters."]
        codes["password"] = "account.password_long"
    if errors:
        raise Invalid(
            "Correct the fields shown.",
            errors=errors,
            code="account.invalid",
            params={"fields": codes, "unknown_roles": unknown, "min_password": MIN_PASSWORD,
                    "max_password": MAX_PASSWORD},
        )


class AccountService:
    """User accounts over the engine's database (each call is one transaction)."""

    def __init__(self, db, clock, throttle: LoginThrottle | None = None):
        self.db = db
        self.clock = clock
        self.throttle = throttle or LoginThrottle()

    def create(self, login: str, password: str, *, roles=(), epci=(), full_name: str = "", email: str = "") -> Account:
        with self.db.sessions.begin() as session:
            row = self.add(session, login, password, roles=roles, epci=epci, full_name=full_name, email=email)
            return Account.of(row)

    def add(self, session: Session, login: str, password: str, *, roles=(), epci=(), full_name: str = "",
            email: str = "", active: bool = True, **extra) -> User:
        """Create an account in the caller's transaction (every account creation goes through
        here, so its ``user_role`` rows are written with it). ``extra``: other columns of the row."""
        _check_fields(login, roles, password)
        if session.scalar(select(User).where(User.login == login)) is not None:
            raise Conflict(f"The login {login} is taken: choose another.", code="account.login_taken",
                           params={"login": login})
        row = User(
            login=login,
            full_name=full_name,
            email=email,
            password_hash=hash_password(password),
            roles=sorted(set(roles)),
            epci=sorted(set(epci)),
            active=active,
            failed_logins=0,
            created_at=self.clock.now(),
            **extra,
        )
        session.add(row)
        _sync_roles(session, row)
        return row

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
        """Change an account. A new password, deactivation or a change of roles or EPCI scope
        ends every web session of the person (they log in again, with what they now hold)."""
        _check_fields(None, roles or (), password or None)
        new_hash = hash_password(password) if password else None  # before the transaction: argon2 holds no lock
        with self.db.sessions.begin() as session:
            row = self._row(session, login)
            ends_sessions = bool(password)
            if roles is not None:
                ends_sessions |= sorted(set(roles)) != sorted(row.roles or ())
                row.roles = sorted(set(roles))
            if epci is not None:
                ends_sessions |= sorted(set(epci)) != sorted(row.epci or ())
                row.epci = sorted(set(epci))
            if full_name is not None:
                row.full_name = full_name
            if email is not None:
                row.email = email
            if active is not None:
                ends_sessions |= row.active and not active
                if active != row.active:  # an administrator decided: no verification link reopens it
                    row.pending_verification = False
                row.active = active
            if new_hash:
                row.password_hash = new_hash
            if ends_sessions:
                row.session_version = (row.session_version or 0) + 1
            if roles is not None or epci is not None:
                _sync_roles(session, row)
            return Account.of(row)

    def end_sessions(self, login: str) -> None:
        """Refuse every session cookie issued to ``login`` so far (logout, "log out everywhere")."""
        with self.db.sessions.begin() as session:
            row = self._row(session, login)
            row.session_version = (row.session_version or 0) + 1

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
        """The active accounts holding ``role``, by login: one query through the indexed ``user_role``
        rows (``epci = ''``: the role whatever the scope), whatever the number of accounts."""
        holders = select(UserRole.user_id).where(UserRole.role == role, UserRole.epci == "")
        with self.db.sessions() as session:
            rows = session.scalars(select(User).where(User.id.in_(holders), User.active).order_by(User.login))
            return [Account.of(row) for row in rows]

    def authenticate(self, login: str, password: str, client: str = "") -> Account:
        """The account for a good login and password; :class:`LoginFailed` or :class:`AccountLocked` else.

        ``client`` identifies where the attempt comes from (the web app gives the IP address):
        failures are throttled per client and per (client, login), see :mod:`.throttle`.
        A refused client gets the same answer whether the login exists or not, and no password
        is checked for it.
        """
        now = self.clock.now()
        failure: Forbidden
        # argon2 runs between two short transactions, never inside one: a login holds no database
        # connection, and no lock, while its password is checked (tens of milliseconds of CPU).
        with self.db.sessions() as session:
            until = self.throttle.refused_until(session, client, login, now)
            if until is not None:
                raise _throttled(until)
            row = session.execute(select(User.id, User.password_hash).where(User.login == login, User.active)).first()
        # An unknown or inactive login costs one argon2 verification, like a wrong password.
        if row is None:
            _verify(_DUMMY_HASH, password)
        good = row is not None and _verify(row.password_hash, password)
        with self.db.sessions.begin() as session:
            user = session.get(User, row.id) if good else None
            # Still the same hash and still active: a password changed meanwhile is not let in with the old one.
            if user is not None and user.active and user.password_hash == row.password_hash:
                self.throttle.succeed(session, client, login)
                if _hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = hash_password(password)
                return Account.of(user)
            # The failure is counted (committed) before it is reported.
            until = self.throttle.fail(session, client, login, now)
            failure = _throttled(until) if until is not None else _login_failed()
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
                raise LoginFailed("Jeton d'API inconnu ou révoqué.", code="token.invalid")
            return Account.of(found)

    @staticmethod
    def _row(session: Session, login: str) -> User:
        row = session.scalar(select(User).where(User.login == login))
        if row is None:
            raise NotFound(f"L'utilisateur {login} n'existe pas.", code="account.not_found", params={"login": login})
        return row


def _login_failed() -> LoginFailed:
    return LoginFailed("Wrong login or password.", code="login.failed")


def _throttled(until: datetime) -> AccountLocked:
    return AccountLocked("Too many failed logins from this client: try again later.", until=until)


def _verify(password_hash: str, password: str) -> bool:
    return _PASSWORDS.submit(_check, password_hash, password).result()


def _check(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
