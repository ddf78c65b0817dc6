"""Associations with several members: a member invites a colleague by e-mail, and the members
of an association read each other's dossiers.

An invitation is a signed link (see :mod:`.registration`) naming the association and the
invited address, valid :data:`INVITE_FOR`; following it, the colleague creates their own porteur
account in the association (the link proves the address, so the account is active at once). It
works once: an address already among the members is refused.

Sharing is for reading: each step of a dossier stays assigned to the member who applied (the
process assigns it to the porteur's login).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from . import roles
from .accounts import Account, AccountService
from .errors import Forbidden, Invalid
from .limits import MAX_SHORT_TEXT
from .persistence.models import Organisation, User
from .registration import (
    Application,
    LinkFor,
    check_application,
    check_email,
    identifier_ok,
    load_link,
    normalise_identifier,
    queue_link_mail,
    signed_links,
    spent,
)

INVITE_FOR = timedelta(days=7)
#: the most existing accounts :meth:`Organisations.found` gathers into one association
MAX_FOUNDERS = 20
_INVITE_SALT = "dsdt.organisation.invite"


@dataclass(frozen=True)
class Member:
    login: str
    full_name: str
    email: str
    active: bool


@dataclass(frozen=True)
class OrganisationInfo:
    id: int
    name: str
    identifier: str
    members: tuple[Member, ...]


class Organisations:
    """Members of associations, over an :class:`AccountService` (each call is one transaction)."""

    def __init__(self, accounts: AccountService, secret: str | bytes):
        self.accounts = accounts
        self._invite = signed_links(secret, _INVITE_SALT, accounts.clock)

    def colleagues(self, login: str) -> frozenset[str]:
        """``login`` and the logins of the other active members of its association."""
        with self.accounts.db.sessions() as session:
            organisation_id = session.scalar(select(User.organisation_id).where(User.login == login))
            if organisation_id is None:
                return frozenset({login})
            members = session.scalars(
                select(User.login).where(User.organisation_id == organisation_id, User.active.is_(True)))
            return frozenset({login, *members})

    def of(self, login: str) -> OrganisationInfo | None:
        """The association of ``login`` and its members, or None."""
        with self.accounts.db.sessions() as session:
            organisation_id = session.scalar(select(User.organisation_id).where(User.login == login))
            return None if organisation_id is None else _info(session, organisation_id)

    def invite(self, inviter: str, email: str, link_for: LinkFor) -> None:
        """Queue an invitation to ``email`` to join ``inviter``'s association."""
        email = email.strip()
        check_email(email)
        with self.accounts.db.sessions.begin() as session:
            row = session.scalar(select(User).where(User.login == inviter))
            if row is None or row.organisation_id is None or not row.active:
                raise Forbidden(f"{inviter} belongs to no association: only its members invite.",
                                code="organisation.none")
            name = session.get(Organisation, row.organisation_id).name
            token = self._invite.dumps({"o": row.organisation_id, "e": email})
            queue_link_mail(session, email, "[DSDT] Invitation à rejoindre votre association",
                        f"Bonjour,\n\n{row.full_name or row.login} vous invite à rejoindre l’association "
                        f"« {name} » sur l’application DSDT, pour suivre ses candidatures. Pour créer votre "
                        f"compte, ouvrez ce lien dans les {INVITE_FOR.days} jours :\n{link_for(token)}\n\n"
                        "Si vous ne connaissez pas cette personne, ignorez ce message.\n",
                        self.accounts.clock.now())

    def found(self, name: str, identifier: str, email: str, members: Sequence[str]) -> OrganisationInfo:
        """Create an association of existing porteur accounts that belong to none yet (the demo's
        porteurs; an administrator gathering accounts made before registration existed).

        The association's fields are checked as a registration's (every wrong field named at
        once); each member must be an active porteur of no association. All or nothing, in one
        transaction."""
        name, identifier, email = name.strip(), normalise_identifier(identifier), email.strip()
        logins = list(dict.fromkeys(login.strip() for login in members))
        _check_association(name, identifier, email)
        if not 1 <= len(logins) <= MAX_FOUNDERS:
            raise Invalid(f"An association is founded with 1 to {MAX_FOUNDERS} members, not {len(logins)}.",
                          code="organisation.members_count", params={"limit": MAX_FOUNDERS})
        with self.accounts.db.sessions.begin() as session:
            rows = {row.login: row for row in session.scalars(select(User).where(User.login.in_(logins)))}
            for login in logins:
                row = rows.get(login)
                if row is None or not row.active or row.organisation_id is not None or roles.PORTEUR not in row.roles:
                    raise Invalid(f"{login} is not an active porteur account outside any association.",
                                  code="organisation.member_refused", params={"login": login})
            organisation = Organisation(name=name, identifier=identifier, email=email,
                                        created_at=self.accounts.clock.now())
            session.add(organisation)
            session.flush()
            for row in rows.values():
                row.organisation_id = organisation.id
            session.flush()
            return _info(session, organisation.id)

    def invitation(self, token: str) -> tuple[OrganisationInfo, str]:
        """The association and the address of an invitation still usable; the link's error else."""
        data = load_link(self._invite, token, INVITE_FOR)
        with self.accounts.db.sessions() as session:
            return self._usable(session, data), data["e"]

    def join(self, token: str, full_name: str, login: str, password: str) -> Account:
        """Create the invited colleague's porteur account in the association, active at once."""
        data = load_link(self._invite, token, INVITE_FOR)
        check_application(Application("", "", full_name.strip(), data.get("e", ""), login.strip(), password),
                          association=False)
        with self.accounts.db.sessions.begin() as session:
            info = self._usable(session, data)
            row = self.accounts.add(session, login.strip(), password, roles=(roles.PORTEUR,),
                                    full_name=full_name.strip(), email=data["e"], organisation_id=info.id)
            return Account.of(row)

    @staticmethod
    def _usable(session, data: dict) -> OrganisationInfo:
        organisation_id, email = data.get("o"), data.get("e")
        if not isinstance(organisation_id, int) or not isinstance(email, str):
            raise spent()
        if session.get(Organisation, organisation_id) is None:
            raise spent()
        info = _info(session, organisation_id)
        if any(member.email == email for member in info.members):
            raise spent()  # already joined
        return info


def _check_association(name: str, identifier: str, email: str) -> None:
    """:class:`Invalid` naming each wrong field of an association, with the registration's codes."""
    codes: dict[str, str] = {}
    if not name:
        codes["association"] = "registration.required"
    elif len(name) > MAX_SHORT_TEXT:
        codes["association"] = "registration.too_long"
    if not identifier_ok(identifier):
        codes["identifier"] = "registration.identifier_format"
    try:
        check_email(email)
    except Invalid:
        codes["email"] = "registration.email_format"
    if codes:
        raise Invalid("Correct the fields shown.", errors={field: [code] for field, code in codes.items()},
                      code="account.invalid", params={"limit": MAX_SHORT_TEXT, "fields": codes})


def _info(session, organisation_id: int) -> OrganisationInfo:
    organisation = session.get(Organisation, organisation_id)
    rows = session.scalars(select(User).where(User.organisation_id == organisation_id).order_by(User.login))
    members = tuple(Member(row.login, row.full_name, row.email, row.active) for row in rows)
    return OrganisationInfo(organisation.id, organisation.name, organisation.identifier, members)
