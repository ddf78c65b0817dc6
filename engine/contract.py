"""The model's contract: everything the application reads from the model, declared by the model.

``processes/contract.json`` is deployed with the diagrams (stored, content-addressed and pinned
with them: changing it is a new version) and parsed into a :class:`Contract`, carried by the
parsed deployment (``ParsedModels.contract``). Python never names a BPMN id, a data field or a
message of the model: it reads them from the contract of the dossier's pinned deployment, so a
process owner who renames a step in the modeler updates the contract, not the code. The deploy
checks the diagrams against their contract (:mod:`engine.bpmn.contract_check`) and refuses a
version that breaks it, naming what is missing.

The manifest (every key required; ``null`` or ``[]`` says the model has none of it)::

    {
      "main_process": "dsdt_candidature",            # the process a dossier starts
      "start_data": {                                # the data a dossier starts with
        "porteur": "porteur",                        #   field receiving the porteur's login
        "reference": "dossier_ref",                  #   field receiving the dossier reference
        "campaign": "campagne",                      #   field receiving the campaign snapshot
        "initial": {"issue": null, "passage_jury": 1}  # constant fields
      },
      "fields": {                                    # data fields the dossier's row shows
        "title": "titre_projet", "epci": "epci", "outcome": "issue",
        "reason": "motif_fin", "jury_type": "jury_type"
      },
      "porteur_steps": ["contact", "fiche"],         # user tasks of the porteur's lane
      "jury": {                                      # steps every jury member completes
        "steps": ["examen_territorial", "examen_regional"],
        "conflict_field": "conflit_interet",         #   form field: true = conflict declared
        "regional_type": "regional"                  #   value of fields.jury_type for the regional jury
      },
      "withdrawal": {"message": "retrait_porteur", "reason_field": "motif"}
    }

A model runs several **process families** (a dossier of the call for projects, the Région–EPCI
DSDT convention...): ``{"families": {"candidature": {…the manifest above…}, "convention": {…}}}``,
the first family being the one a porteur's application starts. The manifest alone (the shape
deployments stored before families existed) is one family, ``candidature``. Optional keys of a
family: ``start_data.epci`` (the field receiving the EPCI a staff member starts the instance
for) and ``fields.priorities`` (the field holding the priorities a signed convention sets).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import Invalid

CONTRACT_FILE = "processes/contract.json"

FIELD_ROLES = ("title", "epci", "outcome", "reason", "jury_type", "priorities")
START_ROLES = ("porteur", "reference", "campaign")
#: keys a family may leave out (absent: null), added after stored contracts were written
_OPTIONAL_FIELDS = ("priorities",)
_OPTIONAL_START = ("epci",)
_KEYS = ("main_process", "start_data", "fields", "porteur_steps", "jury", "withdrawal")
#: the family of a manifest without ``families`` (and of every instance started before families)
DEFAULT_FAMILY = "candidature"
_FAMILY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,19}$")


@dataclass(frozen=True)
class Jury:
    """The jury steps: completed once per member; a member may declare a conflict of interest."""

    steps: frozenset[str]
    conflict_field: str | None
    regional_type: str | None


@dataclass(frozen=True)
class Withdrawal:
    """The message a porteur's withdrawal sends, and the payload field holding their reason."""

    message: str
    reason_field: str


@dataclass(frozen=True)
class Contract:
    """What the application reads from a deployment's models (see the module docstring)."""

    main_process: str
    start_fields: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(START_ROLES))
    initial: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(FIELD_ROLES))
    porteur_steps: frozenset[str] = frozenset()
    jury: Jury | None = None
    withdrawal: Withdrawal | None = None
    #: the process family this contract describes, and (on the first family only) the others
    family: str = DEFAULT_FAMILY
    others: tuple[Contract, ...] = ()

    @property
    def families(self) -> dict[str, Contract]:
        """Every family of the model, the first one (this contract) first."""
        return {self.family: self, **{other.family: other for other in self.others}}

    @classmethod
    def bare(cls, main_process: str) -> Contract:
        """A contract naming only the main process (a lone process parsed by a tool or a test)."""
        return cls(main_process)

    @property
    def jury_steps(self) -> frozenset[str]:
        return self.jury.steps if self.jury else frozenset()

    def start_data(self, porteur: str, reference: str, campaign: dict, epci: str | None = None) -> dict:
        """The data a new dossier starts with."""
        data = json.loads(json.dumps(self.initial))  # a copy: the contract is shared by every dossier
        for role, value in (("porteur", porteur), ("reference", reference), ("campaign", campaign), ("epci", epci)):
            if self.start_fields.get(role):
                data[self.start_fields[role]] = value
        return data

    def value(self, role: str, data: dict):
        """The value of the field playing ``role`` (:data:`FIELD_ROLES`) in ``data``, or None."""
        name = self.fields.get(role)
        return data.get(name) if name else None

    def campaign_of(self, start_data: dict) -> dict:
        """The campaign snapshot in a dossier's start data (``{}`` if the model takes none)."""
        name = self.start_fields.get("campaign")
        return (start_data.get(name) if name else None) or {}

    def withdrawal_payload(self, reason: str) -> dict:
        return {self.withdrawal.reason_field: reason} if self.withdrawal else {}

    def declares_conflict(self, bpmn_id: str | None, data: dict | None) -> bool:
        """Whether a completion of step ``bpmn_id`` with ``data`` declares a conflict of interest."""
        jury = self.jury
        return bool(jury and jury.conflict_field and bpmn_id in jury.steps
                    and (data or {}).get(jury.conflict_field) is True)


def _refuse(detail: str) -> Invalid:
    message = f"{CONTRACT_FILE}: {detail}"
    return Invalid(f"The model's contract is broken: {message}. Fix it (processes/README.md, \"Contract\") "
                   "and deploy again.", code="model.invalid", params={"detail": message}, file=CONTRACT_FILE)


def _name(value, where: str, nullable: bool = True) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _refuse(f"{where} must be a non-empty string{' or null' if nullable else ''}, not {value!r}")
    return value


def _object(document: dict, key: str, keys: tuple[str, ...], where: str, optional: tuple[str, ...] = ()) -> dict:
    value = document[key]
    if not isinstance(value, dict):
        raise _refuse(f"{where} must be an object with {', '.join(keys)}")
    missing = [k for k in keys if k not in value and k not in optional]
    unknown = sorted(k for k in value if k not in keys and not k.startswith("$"))
    if missing:
        raise _refuse(f"{where} is missing {', '.join(missing)}")
    if unknown:
        raise _refuse(f"{where} has unknown keys {', '.join(unknown)}: expected {', '.join(keys)}")
    return value


def _ids(value, where: str) -> frozenset[str]:
    if not isinstance(value, list):
        raise _refuse(f"{where} must be a list of BPMN ids")
    return frozenset(_name(item, f"each of {where}", nullable=False) for item in value)


def parse_contract(content: bytes) -> Contract:
    """The :class:`Contract` of a ``contract.json`` (its first family, carrying the others);
    :class:`Invalid` naming what is wrong.

    Every key is required (``null`` or ``[]`` says the model has none of it): a key left out by
    mistake would otherwise silently switch a feature off (withdrawal, jury scope).
    """
    try:
        document = json.loads(content)
    except ValueError as err:
        raise _refuse(f"malformed JSON: {err}") from err
    if not isinstance(document, dict):
        raise _refuse("must be a JSON object")
    if "families" not in document:
        return _parse_family(document, DEFAULT_FAMILY, "")
    unknown = sorted(key for key in document if key != "families" and not key.startswith("$"))
    families = document["families"]
    if unknown:
        raise _refuse(f"unknown keys {', '.join(unknown)} beside families: each family holds its own manifest")
    if not isinstance(families, dict) or not families:
        raise _refuse("families must be a non-empty object of family name → manifest")
    parsed = []
    for name, manifest in families.items():
        if not isinstance(name, str) or not _FAMILY_NAME.match(name):
            raise _refuse(f"family name {name!r} must be 1 to 20 lower-case letters, digits or _, "
                          "starting with a letter")
        if not isinstance(manifest, dict):
            raise _refuse(f"families.{name} must be a JSON object")
        parsed.append(_parse_family(manifest, name, f"families.{name}."))
    processes = [family.main_process for family in parsed]
    if len(set(processes)) != len(processes):
        raise _refuse("two families name the same main_process")
    first, *others = parsed
    return dataclasses.replace(first, others=tuple(others))


def _parse_family(document: dict, family: str, at: str) -> Contract:
    """One family's manifest (``at``: where it sits, for the messages)."""
    missing = [key for key in _KEYS if key not in document]
    if missing:
        raise _refuse(f"{at}missing {', '.join(missing)} (every key is required; null says the model has none)")
    unknown = sorted(key for key in document if key not in _KEYS and not key.startswith("$"))
    if unknown:
        raise _refuse(f"{at}unknown keys {', '.join(unknown)}: expected {', '.join(_KEYS)}")
    start = _object(document, "start_data", (*START_ROLES, *_OPTIONAL_START, "initial"), f"{at}start_data",
                    optional=_OPTIONAL_START)
    if not isinstance(start["initial"], dict):
        raise _refuse(f"{at}start_data.initial must be an object of field → constant value")
    fields = _object(document, "fields", FIELD_ROLES, f"{at}fields", optional=_OPTIONAL_FIELDS)
    jury = withdrawal = None
    if document["jury"] is not None:
        found = _object(document, "jury", ("steps", "conflict_field", "regional_type"), f"{at}jury")
        jury = Jury(_ids(found["steps"], f"{at}jury.steps"), _name(found["conflict_field"], f"{at}jury.conflict_field"),
                    _name(found["regional_type"], f"{at}jury.regional_type"))
        if jury.regional_type and not fields["jury_type"]:
            raise _refuse(f"{at}jury.regional_type is a value of fields.jury_type, which is null")
    if document["withdrawal"] is not None:
        found = _object(document, "withdrawal", ("message", "reason_field"), f"{at}withdrawal")
        withdrawal = Withdrawal(_name(found["message"], f"{at}withdrawal.message", nullable=False),
                                _name(found["reason_field"], f"{at}withdrawal.reason_field", nullable=False))
    return Contract(
        main_process=_name(document["main_process"], f"{at}main_process", nullable=False),
        start_fields={role: _name(start.get(role), f"{at}start_data.{role}")
                      for role in (*START_ROLES, *_OPTIONAL_START)},
        initial=dict(start["initial"]),
        fields={role: _name(fields.get(role), f"{at}fields.{role}") for role in FIELD_ROLES},
        porteur_steps=_ids(document["porteur_steps"], f"{at}porteur_steps"),
        jury=jury,
        withdrawal=withdrawal,
        family=family,
    )


#: The contract of the deployments stored before models declared one: the names the engine then
#: held in its own code, for the DSDT models of that time. Used only to load those stored versions
#: (their dossiers and journals must keep replaying); a deploy always requires ``contract.json``.
UNDECLARED = parse_contract(json.dumps({
    "main_process": "dsdt_candidature",
    "start_data": {"porteur": "porteur", "reference": "dossier_ref", "campaign": "campagne",
                   "initial": {"issue": None, "motif_fin": None, "passage_jury": 1}},
    "fields": {"title": "titre_projet", "epci": "epci", "outcome": "issue", "reason": "motif_fin",
               "jury_type": "jury_type"},
    "porteur_steps": ["contact", "fiche", "dossier", "complements", "remaniement_dossier", "signature_porteur"],
    "jury": {"steps": ["examen_territorial", "examen_regional"], "conflict_field": "conflit_interet",
             "regional_type": "regional"},
    "withdrawal": {"message": "retrait_porteur", "reason_field": "motif"},
}).encode())
