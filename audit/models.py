"""The audit log (who read or wrote health data) and each case's timeline (what happened to it).

Both are append-only: a row, once written, is never changed or removed through the ORM's
public API. `save()` refuses to update an existing row, `delete()` refuses, and the default
manager's QuerySet refuses `update()` and `delete()`. The admin shows them read-only.

Two deliberate exceptions, both through Django's collector (which uses the plain base manager,
not ours): deleting a user nulls `user`/`actor` (the username and role snapshots stay), and
erasing a case erases its timeline with it. The audit log names objects by type and id only,
so it outlives the objects it talks about and holds no health data.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    """An attempt to change or remove a row of an append-only table."""


_M = TypeVar("_M", bound=models.Model)


class AppendOnlyQuerySet(models.QuerySet[_M]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model.__name__} rows are never updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model.__name__} rows are never deleted.")


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are never updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{type(self).__name__} rows are never deleted.")


class AuditAction(models.TextChoices):
    """What someone did with health data (or with their session)."""

    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    UPLOAD = "upload", "Uploaded a photo"
    DOWNLOAD = "download", "Downloaded"
    EXPORT = "export", "Exported"
    CLAIM = "claim", "Claimed for review"
    RELEASE = "release", "Released a claim"
    REASSIGN = "reassign", "Reassigned a claim"
    REVIEW = "review", "Reviewed"
    ANNOTATE = "annotate", "Annotated"
    MESSAGE = "message", "Messaged"
    LOGIN = "login", "Signed in"
    LOGOUT = "logout", "Signed out"
    LOGIN_FAILED = "login_failed", "Failed sign-in"


class AuditEvent(AppendOnlyModel):
    """One access to health data: who (and as what role), did what, to which object, from where.

    `detail` holds ids, counts, flags, status codes: never names, answers, notes or results.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)  # as it was at the time
    role = models.CharField(max_length=16, blank=True, db_index=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=300, blank=True)
    method = models.CharField(max_length=8, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The HTTP status answered, when known."
    )
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet["AuditEvent"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-created_at"])]

    def __str__(self) -> str:
        who = self.username or "anonymous"
        return f"{who} {self.action} {self.object_type} {self.object_id}".strip()


class TimelineKind(models.TextChoices):
    OPENED = "opened", "Case opened"
    IMAGE_UPLOADED = "image_uploaded", "Photo uploaded"
    IMAGE_REMOVED = "image_removed", "Photo removed"
    IMAGE_HIDDEN = "image_hidden", "Photo hidden from the patient"
    ANALYSIS_FINISHED = "analysis_finished", "Analysis finished"
    ANALYSIS_REJECTED = "analysis_rejected", "Photo could not be used"
    ANALYSIS_FAILED = "analysis_failed", "Analysis failed"
    FLAGGED = "flagged", "Flagged for a dermatologist"
    CLAIMED = "claimed", "Claimed for review"
    RELEASED = "released", "Claim released"
    CLAIM_EXPIRED = "claim_expired", "Claim expired"
    REASSIGNED = "reassigned", "Reassigned"
    REVIEWED = "reviewed", "Reviewed by a dermatologist"
    SELF_CARE_OVERRIDE = "self_care_override", "Self-care despite the diagnosis (override)"
    MESSAGE_SENT = "message_sent", "Message sent"
    RETAKE_REQUESTED = "retake_requested", "New photo requested"
    REOPENED = "reopened", "Reopened"
    ESCALATED = "escalated", "Escalated for a second opinion"
    CLOSED = "closed", "Closed"


class TimelineEventQuerySet(AppendOnlyQuerySet["TimelineEvent"]):
    def visible_to(self, *, clinician: bool) -> TimelineEventQuerySet:
        """Clinicians see every event; anyone else only the events meant for patients.

        The caller says which the reader is (audit knows no roles), and which cases a user
        may see at all is decided by Case.objects.visible_to().
        """
        return self if clinician else self.filter(patient_visible=True)

    def of_case(self, case: Any, *, clinician: bool) -> TimelineEventQuerySet:
        """A case's history as its reader may see it, oldest first."""
        return self.filter(case=case).visible_to(clinician=clinician).select_related("actor")


class TimelineEvent(AppendOnlyModel):
    """One thing that happened to a case: who did it, when, and what."""

    case = models.ForeignKey(
        "diagnosis.Case", on_delete=models.CASCADE, related_name="timeline"
    )
    kind = models.CharField(max_length=20, choices=TimelineKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    actor_role = models.CharField(max_length=16, blank=True)  # "" for the system
    patient_visible = models.BooleanField(default=False)
    message = models.TextField(blank=True, max_length=4000)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = TimelineEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (case {self.case_id})"
