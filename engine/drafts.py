"""Drafts: form data a person saved on an open task without submitting it.

A draft belongs to one person and one task; it is not validated (it may be incomplete) and
never enters the journal. Completing the task deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete

from .errors import Invalid
from .forms import MAX_FORM_BYTES, encoded_size
from .persistence.models import Draft


@dataclass(frozen=True)
class SavedDraft:
    """A draft's data and when it was last saved (the task page reminds the person of it)."""

    data: dict
    saved_at: datetime


class DraftStore:
    def __init__(self, db, clock):
        self.db = db
        self.clock = clock

    def save(self, login: str, instance_id: int, task_ref: str, data: dict) -> None:
        if encoded_size(data) > MAX_FORM_BYTES:  # not validated, but bounded like a submitted form
            raise Invalid(
                f"The draft is larger than {MAX_FORM_BYTES // 1024} KiB: attach long documents as files",
                code="draft.too_large",
                params={"limit_kib": MAX_FORM_BYTES // 1024},
                errors={"": [f"at most {MAX_FORM_BYTES // 1024} KiB"]},
            )
        with self.db.sessions.begin() as session:
            row = session.get(Draft, (login, instance_id, task_ref))
            if row is None:
                session.add(
                    Draft(
                        login=login,
                        instance_id=instance_id,
                        task_ref=task_ref,
                        data=data,
                        saved_at=self.clock.now(),
                    )
                )
            else:
                row.data, row.saved_at = data, self.clock.now()

    def load(self, login: str, instance_id: int, task_ref: str) -> dict | None:
        saved = self.get(login, instance_id, task_ref)
        return saved.data if saved is not None else None

    def get(self, login: str, instance_id: int, task_ref: str) -> SavedDraft | None:
        """The draft with its save time, or None when the person has saved none for this task."""
        with self.db.sessions() as session:
            row = session.get(Draft, (login, instance_id, task_ref))
            return SavedDraft(dict(row.data), row.saved_at) if row is not None else None

    def discard(self, login: str, instance_id: int, task_ref: str) -> None:
        with self.db.sessions.begin() as session:
            session.execute(
                delete(Draft).where(Draft.login == login, Draft.instance_id == instance_id, Draft.task_ref == task_ref)
            )
