"""Self-service accounts: an association registers a porteur, verifies its e-mail address, and
anyone resets a forgotten password by e-mail.

Links carry a token signed with the web app's secret key (:mod:`itsdangerous`), timed by the
engine's clock, and bound to the account's state so that each works once:

- a verification link names the account and its ``session_version``; verifying activates the
  account and bumps the version, so the link (and any other sent before) is spent;
- a reset link names the account and a fingerprint of its password hash and ``session_version``;
  a new password changes both, so the link is spent, and every web session of the person ends.

Whether an address has an account is never said: asking for a reset, or for a new
verification link, gives the same answer for any address.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import roles
from .accounts import Account, AccountService, check_new_login, check_password, hash_password
from .errors import Invalid
from .limits import MAX_SHORT_TEXT
from .notifications_store import header_problem, queue_email
from .persistence.models import Organisation, OutboxEmail, User

VERIFY_FOR = timedelta(hours=48)
RESET_FOR = timedelta(hours=1)
#: the least time between two mails of one kind to one address
RESEND_AFTER = timedelta(minutes=5)
_VERIFY_SALT = "dsdt.registration.verify-email"
_RESET_SALT = "dsdt.registration.reset-password"
#: a French association's number: a SIRET (14 digits) or an RNA number (W and 9 digits)
_SIRET = re.compile(r"\d{14}")
_RNA = re.compile(r"W\d{9}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: SIRETs of La Poste's establishments follow their own rule (digit sum a multiple of 5)
_LA_POSTE = "356000000"

#: builds the absolute URL of a link from its token (the web layer knows its routes)
LinkFor = Callable[[str], str]


class LinkExpired(Invalid):
    """A verification or reset link older than its lifetime: ask for a new one."""


class LinkInvalid(Invalid):
    """A link that was forged, altered, or already used."""


@dataclass(frozen=True)
class Application:
    """What an association types to register a porteur account."""

    association: str
    identifier: str
    full_name: str
    email: str
    login: str
    password: str


def normalise_identifier(value: str) -> str:
    """``value`` without spaces, upper-cased (people copy SIRETs as ``123 456 789 00012``)."""
    return re.sub(r"[\s.]", "", value).upper()


def identifier_ok(value: str) -> bool:
    """A SIRET with a good Luhn key, or an RNA number (format only: the registers are not asked)."""
    if _RNA.fullmatch(value):
        return True
    if not _SIRET.fullmatch(value):
        return False
    if value.startswith(_LA_POSTE):
        return sum(int(c) for c in value) % 5 == 0
    total = 0
    for position, char in enumerate(reversed(value)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def check_email(email: str) -> None:
    """:class:`Invalid` naming the ``email`` field when it is not one address."""
    if not email or len(email) > MAX_SHORT_TEXT or not _EMAIL.fullmatch(email) or header_problem(email, ""):
        raise Invalid("Correct the fields shown.", errors={"email": ["An e-mail address."]}, code="account.invalid",
                      params={"fields": {"email": "registration.email_format"}})


def check_application(application: Application, *, association: bool = True) -> None:
    """Raise :class:`Invalid` naming each wrong field, with a message code per field (the
    association's fields are left out for a member joining an association)."""
    codes: dict[str, str] = {}
    errors: dict[str, list[str]] = {}

    def wrong(field: str, code: str, message: str) -> None:
        codes[field], errors[field] = code, [message]

    for field in ("association", "full_name", "email", "login")[0 if association else 1:]:
        value = getattr(application, field)
        if not value:
            wrong(field, "registration.required", "Required.")
        elif len(value) > MAX_SHORT_TEXT:
            wrong(field, "registration.too_long", f"At most {MAX_SHORT_TEXT} characters.")
    if association and not identifier_ok(application.identifier):
        wrong("identifier", "registration.identifier_format",
              "A SIRET (14 digits, with a valid key) or an RNA number (W and 9 digits).")
    if "email" not in codes and (not _EMAIL.fullmatch(application.email) or header_problem(application.email, "")):
        wrong("email", "registration.email_format", "An e-mail address such as name@example.org.")
    params: dict = {"limit": MAX_SHORT_TEXT}
    try:  # the account's own rules, so that every wrong field is named at once
        check_new_login(application.login, application.password)
    except Invalid as err:
        for field, code in err.params["fields"].items():
            codes.setdefault(field, code)
            errors.setdefault(field, err.errors[field])
        params.update((name, value) for name, value in err.params.items() if name != "fields")
    if errors:
        raise Invalid("Correct the fields shown.", errors=errors, code="account.invalid",
                      params={**params, "fields": codes})


class Registrations:
    """Registration, e-mail verification and password reset over an :class:`AccountService`.

    ``secret`` signs the links (the web app's secret key); each call is one transaction.
    """

    def __init__(self, accounts: AccountService, secret: str | bytes):
        self.accounts = accounts
        self._verify = signed_links(secret, _VERIFY_SALT, accounts.clock)
        self._reset = signed_links(secret, _RESET_SALT, accounts.clock)

    # -- registration ----------------------------------------------------------------------------

    def register(self, application: Application, link_for: LinkFor) -> Account:
        """Create the association and its porteur account, inactive until the address is
        verified, and queue the e-mail with the verification link."""
        application = Application(
            application.association.strip(), normalise_identifier(application.identifier),
            application.full_name.strip(), application.email.strip(), application.login.strip(),
            application.password,
        )
        check_application(application)
        now = self.accounts.clock.now()
        with self.accounts.db.sessions.begin() as session:
            organisation = Organisation(name=application.association, identifier=application.identifier,
                                        email=application.email, created_at=now)
            session.add(organisation)
            session.flush()
            row = self.accounts.add(
                session, application.login, application.password, roles=(roles.PORTEUR,),
                full_name=application.full_name, email=application.email, active=False,
                organisation_id=organisation.id, pending_verification=True,
            )
            self._send_verification(session, row, link_for)
            return Account.of(row)

    def resend(self, email: str, link_for: LinkFor) -> None:
        """Send a new verification link to every account awaiting verification at ``email``
        (nothing, and the same answer, for any other address)."""
        with self.accounts.db.sessions.begin() as session:
            for row in self._with_email(session, email, pending=True):
                self._send_verification(session, row, link_for)

    def verify(self, token: str) -> Account:
        """Activate the account of a verification link; :class:`LinkExpired` / :class:`LinkInvalid` else."""
        data = load_link(self._verify, token, VERIFY_FOR)
        with self.accounts.db.sessions.begin() as session:
            row = session.scalar(select(User).where(User.login == data.get("l")))
            if row is None or not row.pending_verification or row.session_version != data.get("v"):
                raise spent()
            row.pending_verification = False
            row.active = True
            row.session_version = (row.session_version or 0) + 1
            return Account.of(row)

    # -- password reset --------------------------------------------------------------------------

    def request_reset(self, email: str, link_for: LinkFor) -> None:
        """Queue a reset link to each active account at ``email``; nothing for an unknown address."""
        with self.accounts.db.sessions.begin() as session:
            for row in self._with_email(session, email, pending=False):
                token = self._reset.dumps({"l": row.login, "f": _fingerprint(row)})
                self._mail(session, row, "[DSDT] Nouveau mot de passe",
                           f"Bonjour {row.full_name or row.login},\n\n"
                           f"Pour choisir un nouveau mot de passe pour l’identifiant {row.login}, "
                           f"ouvrez ce lien dans les {RESET_FOR // timedelta(hours=1)} heure(s) :\n"
                           f"{link_for(token)}\n\n"
                           "Si vous n’avez rien demandé, ignorez ce message : votre mot de passe ne change pas.\n")

    def check_reset(self, token: str) -> str:
        """The login a reset link is for, if it can still be used; the link's error else."""
        data = load_link(self._reset, token, RESET_FOR)
        with self.accounts.db.sessions() as session:
            return self._reset_row(session, data).login

    def reset_password(self, token: str, password: str) -> Account:
        """Set the password of a reset link's account; the link is spent and every web session
        of the person ends."""
        data = load_link(self._reset, token, RESET_FOR)
        check_password(password)
        with self.accounts.db.sessions.begin() as session:
            row = self._reset_row(session, data)
            row.password_hash = hash_password(password)
            row.session_version = (row.session_version or 0) + 1
            return Account.of(row)

    # -- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _reset_row(session: Session, data: dict) -> User:
        row = session.scalar(select(User).where(User.login == data.get("l")))
        if row is None or not row.active or _fingerprint(row) != data.get("f"):
            raise spent()
        return row

    @staticmethod
    def _with_email(session: Session, email: str, *, pending: bool) -> list[User]:
        email = email.strip()
        if not email or len(email) > MAX_SHORT_TEXT:
            return []
        query = select(User).where(User.email == email, User.pending_verification.is_(pending))
        if not pending:
            query = query.where(User.active.is_(True))
        return list(session.scalars(query.order_by(User.login)))

    def _send_verification(self, session: Session, row: User, link_for: LinkFor) -> None:
        token = self._verify.dumps({"l": row.login, "v": row.session_version or 0})
        self._mail(session, row, "[DSDT] Confirmez votre adresse électronique",
                   f"Bonjour {row.full_name or row.login},\n\n"
                   f"Votre compte {row.login} a été créé sur l’application DSDT. Pour l’activer, "
                   f"ouvrez ce lien dans les {VERIFY_FOR // timedelta(hours=1)} heures :\n{link_for(token)}\n\n"
                   "Si vous n’avez rien demandé, ignorez ce message.\n")

    def _mail(self, session: Session, row: User, subject: str, body: str) -> None:
        queue_link_mail(session, row.email, subject, body, self.accounts.clock.now())


def queue_link_mail(session: Session, recipient: str, subject: str, body: str, now) -> bool:
    """Queue a mail carrying a link, unless the same kind went to ``recipient`` less than
    :data:`RESEND_AFTER` ago: anyone may ask for links to any address, and a mailbox must not
    be flooded with them. Returns whether it was queued (the asker is told the same either way)."""
    recent = session.scalar(select(OutboxEmail.id).where(
        OutboxEmail.recipient == recipient, OutboxEmail.subject == subject,
        OutboxEmail.created_at > now - RESEND_AFTER).limit(1))
    if recent is not None:
        return False
    queue_email(session.connection(), recipient, subject, body, now)
    return True


def signed_links(secret: str | bytes, salt: str, clock) -> URLSafeTimedSerializer:
    """Signs and reads the tokens of links for one purpose (``salt``), aged on ``clock``."""

    class _ClockSigner(TimestampSigner):
        # Links age on the engine's clock, the one every other deadline follows.
        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    return URLSafeTimedSerializer(secret, salt=salt, signer=_ClockSigner)


def _fingerprint(row: User) -> str:
    return hashlib.sha256(f"{row.password_hash}:{row.session_version or 0}".encode()).hexdigest()[:32]


def load_link(serializer: URLSafeTimedSerializer, token: str, lifetime: timedelta) -> dict:
    if len(token) > 1000:
        raise spent()
    try:
        data = serializer.loads(token, max_age=int(lifetime.total_seconds()))
    except SignatureExpired as err:
        raise LinkExpired("This link has expired: ask for a new one.", code="link.expired") from err
    except BadSignature as err:
        raise spent() from err
    if not isinstance(data, dict):
        raise spent()
    return data


def spent() -> LinkInvalid:
    return LinkInvalid("This link is not valid or was already used: ask for a new one.", code="link.invalid")
