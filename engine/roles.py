"""Application roles and the BPMN lane labels that stand for them.

A lane is a role: process owners name lanes with the French label, the engine maps it to the
role code used for accounts and authorisation. A lane whose label is not listed here is refused
at deploy time, so a typo in the modeler never produces a task nobody can see.
"""

from __future__ import annotations

PORTEUR = "porteur"
TECHNICIEN_COMMUNE = "technicien_commune"
TECHNICIEN_EPCI = "technicien_epci"
INSTRUCTEUR = "instructeur"
JURY_TERRITORIAL = "membre_jury_territorial"
JURY_REGIONAL = "membre_jury_regional"
PRESIDENT_JURY = "president_jury"
SERVICE_CONVENTIONS = "service_conventions"
PROCESS_OWNER = "process_owner"
AUDITOR = "auditeur"
ADMIN = "administrateur"

#: lane label (as written in the BPMN) → role code; ``None`` for automatic lanes.
LANE_ROLES: dict[str, str | None] = {
    "Porteur de projet": PORTEUR,
    "Technicien commune": TECHNICIEN_COMMUNE,
    "Technicien EPCI": TECHNICIEN_EPCI,
    "Instructeur Région": INSTRUCTEUR,
    "Jury territorial": JURY_TERRITORIAL,
    "Jury régional": JURY_REGIONAL,
    "Président du jury": PRESIDENT_JURY,
    "Service conventions": SERVICE_CONVENTIONS,
    "Automatique": None,
}

#: roles that read and never act: someone holding only these may run no command (auditors check
#: the record; a record they could change would prove nothing).
READ_ONLY = frozenset({AUDITOR})

#: roles whose members see every EPCI (regional staff); others are limited to their EPCI scope.
REGIONAL_ROLES = frozenset(
    {INSTRUCTEUR, JURY_REGIONAL, PRESIDENT_JURY, SERVICE_CONVENTIONS, AUDITOR, ADMIN, PROCESS_OWNER}
)

ALL_ROLES = (
    PORTEUR,
    TECHNICIEN_COMMUNE,
    TECHNICIEN_EPCI,
    INSTRUCTEUR,
    JURY_TERRITORIAL,
    JURY_REGIONAL,
    PRESIDENT_JURY,
    SERVICE_CONVENTIONS,
    PROCESS_OWNER,
    AUDITOR,
    ADMIN,
)


def role_for_lane(lane: str | None) -> str | None:
    """The role code of a lane label; ``None`` for an automatic lane or no lane."""
    if lane is None:
        return None
    return LANE_ROLES[lane]
