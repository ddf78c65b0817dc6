"""The demo porteurs' associations: each demo porteur is a member of one, so that "Mon association"
shows its association, its members and the invitation form on first login.

Made by the engine command a registration's association goes through
(:meth:`engine.Organisations.found`): the names, RNA numbers and addresses are checked as a
registration's. Each porteur has an association of their own, so that every porteur still reads
only the dossiers the other demo pages and tests expect; a member invited from the page then
shares them.
"""

from __future__ import annotations

import secrets

from engine import OrganisationInfo, Organisations

from .services import Services

#: (association, RNA number, contact address, member logins)
DEMO_ASSOCIATIONS = (
    ("Jardins partagés du Boulonnais", "W623000101", "contact@jardins-boulonnais.demo.dsdt.example", ("porteur1",)),
    ("Compagnie théâtrale La Traverse", "W623000102", "contact@la-traverse.demo.dsdt.example", ("porteur2",)),
    ("Atelier vélo solidaire de l’Audomarois", "W623000103", "contact@velo-audomarois.demo.dsdt.example",
     ("porteur3",)),
    ("Maison des habitants du Valenciennois", "W593000104", "contact@maison-habitants.demo.dsdt.example",
     ("porteur4",)),
)


def seed_organisations(services: Services) -> list[OrganisationInfo]:
    """Found the :data:`DEMO_ASSOCIATIONS` of the demo porteur accounts (once: the accounts then
    belong to an association, and a second call is refused by the engine)."""
    # No invitation is signed here: the secret only has to exist (see engine.organisations).
    organisations = Organisations(services.accounts, secrets.token_bytes(32))
    return [organisations.found(name, identifier, email, members)
            for name, identifier, email, members in DEMO_ASSOCIATIONS]
