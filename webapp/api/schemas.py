"""Request and response schemas of the API (marshmallow), documented in ``/api/openapi.json``.

Response schemas dump plain dicts built by the views (:mod:`.present`), so a schema is exactly
what goes on the wire. Request bodies refuse unknown fields, so a typo is a 422, not a silent no-op.
Every argument is bounded (:mod:`engine.limits`), and the document says so (maxLength, maximum…).
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from engine import limits

NULLABLE = {"allow_none": True}
SHORT = validate.Length(max=limits.MAX_SHORT_TEXT)
#: Top-level fields of a form's data: our largest form has about twenty.
MAX_FORM_FIELDS = 100


def _few_fields(data: dict) -> None:
    if len(data) > MAX_FORM_FIELDS:
        raise ValidationError(f"Au plus {MAX_FORM_FIELDS} champs.")


class ErrorSchema(Schema):
    code = fields.String(
        metadata={"description": "Stable code: unauthorized, forbidden, not_found, conflict, invalid…"}
    )
    message = fields.String(metadata={"description": "What went wrong and what to do."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Invalid input only: dotted field path → messages."},
    )
    reason = fields.String(
        metadata={"description": "Engine errors only: the engine's own stable code (e.g. dossier.changed)."}
    )
    params = fields.Dict(metadata={"description": "Engine errors only: the values the message names."})
    request_id = fields.String(metadata={"description": "Server errors only: quote it when reporting the error."})


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=limits.MAX_PAGE))
    per_page = fields.Integer(
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Default: 25 tasks (the inbox page's setting) or 50 dossiers."},
    )


class PageSchema(Schema):
    total = fields.Integer(metadata={"description": "Items matching the filters, all pages together."})
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class OpenStepFields(Schema):
    """What every description of an open step says: an inbox row, a task, a dossier's step."""

    ref = fields.String(metadata={"description": "Task reference, used as-is in task URLs."})
    bpmn_id = fields.String()
    name = fields.String()
    role = fields.String()
    assignee = fields.String(**NULLABLE)
    claimed_by = fields.String(**NULLABLE)


# -- tasks -------------------------------------------------------------------------------------


class InboxArgs(PageArgs):
    step = fields.String(validate=SHORT, metadata={"description": "BPMN id of the step (e.g. recevabilite)."})
    epci = fields.String(validate=SHORT)
    campaign = fields.String(validate=SHORT)
    due_before = fields.Date(metadata={"description": "Due on or before this day (end of day, Europe/Paris)."})
    mine = fields.Boolean(load_default=False, metadata={"description": "Only tasks claimed by or assigned to me."})


class InboxTaskSchema(OpenStepFields):
    dossier_id = fields.Integer()
    dossier_ref = fields.String()
    title = fields.String(**NULLABLE)
    epci = fields.String(**NULLABLE)
    campaign = fields.String()
    due_at = fields.DateTime(**NULLABLE)
    created_at = fields.DateTime()
    overdue = fields.Boolean()
    mine = fields.Boolean()


class InboxSchema(PageSchema):
    items = fields.List(fields.Nested(InboxTaskSchema))


class TaskSchema(OpenStepFields):
    dossier_id = fields.Integer()
    dossier_version = fields.Integer(metadata={"description": "Send it back as expected_version when completing."})
    instructions = fields.String(**NULLABLE)
    form = fields.String(metadata={"description": "File name of the form's JSON Schema."})
    form_variable = fields.String()
    schema = fields.Dict(metadata={"description": "JSON Schema the completion data must satisfy."})
    ui_schema = fields.Dict(metadata={"description": "UI schema (labels, widgets, order)."})
    data = fields.Dict(metadata={"description": "The dossier data this step sees (earlier steps included)."})


class CompleteArgs(Schema):
    data = fields.Dict(
        required=True,
        keys=fields.String(validate=SHORT),
        validate=_few_fields,
        metadata={
            "description": (
                "The form data, as the task's JSON Schema describes it (lengths and bounds are there); "
                f"at most {limits.MAX_JSON_BYTES // 1024} KiB for the whole request."
            ),
            "maxProperties": MAX_FORM_FIELDS,
        },
    )
    expected_version = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=limits.MAX_SAFE_INTEGER),
        metadata={"description": "Dossier version read before; 409 if the dossier changed since."},
    )


class StepSchema(OpenStepFields):
    due_at = fields.DateTime(**NULLABLE)
    can_act = fields.Boolean(metadata={"description": "Whether the caller may claim or complete this step."})


# -- dossiers ----------------------------------------------------------------------------------


class DossierSchema(Schema):
    id = fields.Integer()
    ref = fields.String()
    title = fields.String(**NULLABLE)
    campaign = fields.String()
    epci = fields.String(**NULLABLE)
    porteur = fields.String()
    status = fields.String(metadata={"description": "running or closed."})
    outcome = fields.String(**NULLABLE, metadata={"description": "Decision once closed (e.g. abandonne)."})
    reason = fields.String(**NULLABLE, metadata={"description": "Why: refusal motive, withdrawal reason…"})
    jury_type = fields.String(**NULLABLE)
    version = fields.Integer(metadata={"description": "Changes with every command on the dossier."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    steps = fields.List(fields.Nested(StepSchema), metadata={"description": "Open steps."})


class TimelineEntrySchema(Schema):
    seq = fields.Integer(metadata={"description": "Journal entry number."})
    at = fields.DateTime()
    command = fields.String()
    bpmn_id = fields.String(**NULLABLE)
    step = fields.String(**NULLABLE, metadata={"description": "The step's name."})
    actor = fields.String(**NULLABLE, metadata={"description": "Who; null when the caller may not know it."})
    data = fields.Dict(**NULLABLE, metadata={"description": "A withdrawal's reason; step data is in earlier_steps."})


class DocumentSchema(Schema):
    filename = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.DateTime()
    uploaded_by = fields.String(**NULLABLE, metadata={"description": "Null when the caller may not know it."})


class StepRecordSchema(Schema):
    seq = fields.Integer(metadata={"description": "Journal entry of the completion."})
    at = fields.DateTime()
    bpmn_id = fields.String()
    name = fields.String()
    role = fields.String(**NULLABLE)
    actor = fields.String(**NULLABLE, metadata={"description": "Null when the caller may not know it."})
    data = fields.Dict(metadata={"description": "What the caller may read of the submitted form."})


class DossierDetailSchema(DossierSchema):
    """One dossier as its page shows it to the caller (webapp.presenters decides what)."""

    timeline = fields.List(fields.Nested(TimelineEntrySchema))
    documents = fields.List(fields.Nested(DocumentSchema))
    earlier_steps = fields.List(fields.Nested(StepRecordSchema), metadata={
        "description": "Completed steps (the last completion of each), as far as the caller may read them."})
    requests = fields.List(fields.Nested(StepRecordSchema), metadata={
        "description": "For the porteur: what the staff asked of them since their last submission."})


class DossierListArgs(PageArgs):
    epci = fields.String(validate=SHORT)
    campaign = fields.String(validate=SHORT)


class DossierListSchema(PageSchema):
    items = fields.List(fields.Nested(DossierSchema))


class ReceiptArgs(Schema):
    seq = fields.Integer(
        validate=validate.Range(min=1, max=limits.MAX_PAGE),
        metadata={"description": "Journal entry of the submission (default: the porteur's latest)."},
    )


class StartArgs(Schema):
    campaign = fields.String(required=True, validate=SHORT, metadata={"description": "Code of an open campaign."})


class WithdrawArgs(Schema):
    motif = fields.String(
        required=True,
        validate=[
            validate.Length(max=limits.MAX_TEXT, error="Au plus {max} caractères."),
            validate.Regexp(r"\S", error="Indiquez le motif du retrait."),
        ],
        metadata={"description": "Why the application is withdrawn (shown on the dossier)."},
    )
