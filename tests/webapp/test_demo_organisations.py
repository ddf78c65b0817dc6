"""Every demo porteur belongs to an association ("Mon association" shows it on first login), made by
the engine command that checks an association as a registration does."""

from __future__ import annotations

from itertools import count

import pytest

from engine import Invalid, Organisations, roles
from engine.organisations import MAX_FOUNDERS
from webapp import demo
from webapp.demo_organisations import DEMO_ASSOCIATIONS, seed_organisations

_serial = count(1)


def test_every_demo_porteur_has_an_association(services):
    organisations = Organisations(services.accounts, "test")
    porteurs = [login for login, _n, held, _s in demo.demo_users(services.engine) if held == [roles.PORTEUR]]
    assert porteurs
    for login in porteurs:
        info = organisations.of(login)
        assert info is not None, login
        assert login in {member.login for member in info.members}
    assert {organisations.of(members[0]).name for _n, _i, _e, members in DEMO_ASSOCIATIONS} == {
        name for name, _i, _e, _m in DEMO_ASSOCIATIONS}


def test_the_association_page_shows_the_demo_association_on_first_login(auth, client):
    auth.login("porteur1")
    page = client.get("/association/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Jardins partagés du Boulonnais" in text and "porteur1" in text
    assert 'name="email"' in text  # the invitation form


def test_seeding_twice_is_refused_and_changes_nothing(services):
    with pytest.raises(Invalid) as refused:
        seed_organisations(services)
    assert refused.value.code == "organisation.member_refused" and refused.value.params == {"login": "porteur1"}
    assert Organisations(services.accounts, "test").of("porteur1").name == DEMO_ASSOCIATIONS[0][0]


def _porteur(services, **kwargs) -> str:
    login = f"fondateur{next(_serial)}"
    services.accounts.create(login, "un-mot-de-passe-solide", roles=kwargs.pop("held", [roles.PORTEUR]), **kwargs)
    return login


def test_found_checks_every_field_and_each_member(services):
    organisations = Organisations(services.accounts, "test")
    member = _porteur(services)
    with pytest.raises(Invalid) as wrong:
        organisations.found("", "W12", "pas-une-adresse", [member])
    assert wrong.value.params["fields"] == {"association": "registration.required",
                                            "identifier": "registration.identifier_format",
                                            "email": "registration.email_format"}
    # staff that is given no task: an instructeur here would be picked by other modules' demo drivers
    staff = _porteur(services, held=[roles.AUDITOR])
    for refused in (staff, "inconnu-du-tout", "porteur2"):  # staff, unknown, already a member elsewhere
        with pytest.raises(Invalid) as error:
            organisations.found("Les Amis du Parc", "W623000199", "amis@parc.example.org", [member, refused])
        assert error.value.code == "organisation.member_refused" and error.value.params["login"] == refused
    for members in ([], [f"x{n}" for n in range(MAX_FOUNDERS + 1)]):
        with pytest.raises(Invalid) as error:
            organisations.found("Les Amis du Parc", "W623000199", "amis@parc.example.org", members)
        assert error.value.code == "organisation.members_count"
    assert organisations.of(member) is None  # nothing was created by the refusals


def test_found_gathers_accounts_into_one_association(services):
    organisations = Organisations(services.accounts, "test")
    first, second = _porteur(services), _porteur(services)
    info = organisations.found(" Les Amis du Parc ", "w 623 000 199", "amis@parc.example.org", [first, second, first])
    assert info.name == "Les Amis du Parc" and info.identifier == "W623000199"
    assert {member.login for member in info.members} == {first, second}
    assert organisations.colleagues(first) == frozenset({first, second})
