"""Cases, lesion images, analyses and the flags that send analyses to a dermatologist.

A case is one lesion of one patient. It collects photos over time (follow-ups of the same
lesion); each photo gets an analysis row that a Celery worker claims, runs and finishes. The
analysis keeps the whole pipeline result as JSON plus a few denormalised columns (predicted
type, confidence, priority) that the review queue filters and sorts on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from knowledge.models import UNKNOWN_CODE, Urgency
from ml_worker.inference.skin_tone import ITA_GROUPS
from patients.models import Role


class BodySite(models.TextChoices):
    """Anatomical sites as recorded in HAM10000/ISIC, so cases compare with the training data."""

    SCALP = "scalp", "Scalp"
    FACE = "face", "Face"
    EAR = "ear", "Ear"
    NECK = "neck", "Neck"
    CHEST = "chest", "Chest"
    ABDOMEN = "abdomen", "Abdomen"
    BACK = "back", "Back"
    TRUNK = "trunk", "Trunk (other)"
    UPPER_EXTREMITY = "upper extremity", "Arm or shoulder"
    HAND = "hand", "Hand"
    LOWER_EXTREMITY = "lower extremity", "Leg or hip"
    FOOT = "foot", "Foot"
    ACRAL = "acral", "Palm, sole or nail"
    GENITAL = "genital", "Genital area"
    UNKNOWN = "unknown", "Somewhere else / not sure"


class Duration(models.TextChoices):
    UNDER_MONTH = "under_month", "Less than a month"
    MONTHS = "1_6_months", "1 to 6 months"
    UNDER_YEAR = "6_12_months", "6 to 12 months"
    YEARS = "over_year", "More than a year"
    LIFELONG = "lifelong", "Since birth or childhood"
    UNSURE = "unsure", "Not sure"


def _user_scope(user: Any, patient_path: str) -> Q | None:
    """Who may see what: patients their own rows, clinicians all, anyone else nothing.

    Returns None for "everything"; an impossible filter for nobody.
    """
    if not (user and user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    if user.role in (Role.DERMATOLOGIST, Role.ADMIN):
        return None
    if user.role == Role.PATIENT:
        return Q(**{patient_path: user})
    return Q(pk__in=[])


class CaseStatus(models.TextChoices):
    """Where a case stands in the review workflow (kept by the services that move it)."""

    OPEN = "open", "Open"
    AWAITING_REVIEW = "awaiting_review", "Awaiting review"
    IN_REVIEW = "in_review", "In review"
    AWAITING_RETAKE = "awaiting_retake", "Awaiting a new photo"
    ESCALATED = "escalated", "Escalated for a second opinion"
    CLOSED = "closed", "Closed"


class CaseQuerySet(models.QuerySet["Case"]):
    def visible_to(self, user: Any) -> CaseQuerySet:
        scope = _user_scope(user, "patient")
        return self if scope is None else self.filter(scope)


class Case(models.Model):
    """One lesion of one patient, with what the patient told us about it."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cases"
    )
    body_site = models.CharField(max_length=24, choices=BodySite.choices)
    duration = models.CharField(
        "how long it has been there", max_length=16, choices=Duration.choices
    )
    changed = models.BooleanField(
        "it has changed recently", default=False, help_text="In size, shape or colour."
    )
    itches = models.BooleanField("it itches", default=False)
    bleeds = models.BooleanField("it bleeds or weeps", default=False)
    note = models.TextField(blank=True, max_length=2000)
    # The patient's name for it; case_create fills a blank one with the body site and date.
    title = models.CharField(max_length=120, blank=True)
    status = models.CharField(
        max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN, db_index=True
    )
    # When the patient last opened the case page after a conclusion (services.case_review_seen):
    # a conclusion signed off later is "new" in My cases.
    patient_seen_review_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "-created_at"])]

    def __str__(self) -> str:
        return f"Case {self.pk} ({self.get_body_site_display()})"

    def get_absolute_url(self) -> str:
        return reverse("diagnosis:case_detail", kwargs={"pk": self.pk})

    @property
    def reported_change(self) -> bool:
        """The patient's own warning signs: a lesion that changes or bleeds."""
        return self.changed or self.bleeds


def shown_images(user: Any, prefix: str = "") -> Q:
    """The photos `user` is shown: never a removed one (its files are gone), and a hidden
    one only to clinicians, for whom it stays part of the clinical record."""
    shown = Q(**{f"{prefix}removed_at__isnull": True})
    if not (user and user.is_authenticated and user.role in (Role.DERMATOLOGIST, Role.ADMIN)):
        shown &= Q(**{f"{prefix}hidden_at__isnull": True})
    return shown


class LesionImageQuerySet(models.QuerySet["LesionImage"]):
    def visible_to(self, user: Any) -> LesionImageQuerySet:
        scope = _user_scope(user, "case__patient")
        shown = self.filter(shown_images(user))
        return shown if scope is None else shown.filter(scope)

    def own_shown(self, user: Any) -> LesionImageQuerySet:
        """The photos of `user`'s own cases still on their pages (what they may remove or
        hide), with the case."""
        return self.filter(shown_images(user), case__patient=user).select_related("case")


class LesionImage(models.Model):
    """A photo as stored: re-encoded without metadata, under a random name.

    `sha256` is of the bytes the patient sent, so the same photo sent twice is recognised
    even though the stored copy is a re-encoding.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="images")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(max_length=200)
    thumbnail = models.FileField(max_length=200)
    sha256 = models.CharField(max_length=64)
    original_format = models.CharField(max_length=8)  # JPEG | PNG | WEBP
    original_size = models.PositiveIntegerField(help_text="Bytes as uploaded.")
    width = models.PositiveIntegerField()  # of the stored image, orientation applied
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by image_services: removed by the patient before anyone reviewed it (the files are
    # deleted, the row stays for the audit trail), or hidden from the patient's pages after a
    # review (everything kept for the clinical record).
    removed_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)

    objects = LesionImageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A removed photo may be sent again.
            models.UniqueConstraint(
                fields=["case", "sha256"], condition=Q(removed_at__isnull=True),
                name="diagnosis_image_unique_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"Image {self.pk} of case {self.case_id}"

    def get_absolute_url(self) -> str:
        return reverse("diagnosis:image_file", kwargs={"pk": self.pk})

    def get_thumbnail_url(self) -> str:
        return reverse("diagnosis:image_thumbnail", kwargs={"pk": self.pk})


class AnalysisStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    REJECTED = "rejected", "Rejected (retake)"
    FAILED = "failed", "Failed"


PENDING_STATUSES = (AnalysisStatus.QUEUED, AnalysisStatus.RUNNING)
FINISHED_STATUSES = (AnalysisStatus.DONE, AnalysisStatus.REJECTED, AnalysisStatus.FAILED)

# Most urgent first; used to sort the review queue and to pick an analysis' overall priority.
PRIORITY_RANK = {Urgency.URGENT: 3, Urgency.SOON: 2, Urgency.ROUTINE: 1}
REVIEW_ORDER = ("-review_rank", "created_at", "id")


def priority_rank() -> models.Case:
    """PRIORITY_RANK of the row's priority, in SQL (0 for none)."""
    return models.Case(
        *(models.When(priority=p, then=models.Value(r)) for p, r in PRIORITY_RANK.items()),
        default=models.Value(0),
        output_field=models.PositiveSmallIntegerField(),
    )


def unclaimed(now: dt.datetime) -> Q:
    """No dermatologist holds a live claim on the analysis (AnalysisQuerySet.claimable)."""
    return Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=now)


def claim_held(now: dt.datetime) -> Q:
    """A dermatologist holds a live claim on the analysis: what `unclaimed` is not, written
    so that the partial index of held claims (analysis_review_claims) answers it."""
    return Q(claimed_by__isnull=False, claim_expires_at__gt=now)


class AnalysisQuerySet(models.QuerySet["Analysis"]):
    def visible_to(self, user: Any) -> AnalysisQuerySet:
        scope = _user_scope(user, "image__case__patient")
        shown = self.filter(shown_images(user, "image__"))
        return shown if scope is None else shown.filter(scope)

    def pending(self) -> AnalysisQuerySet:
        return self.filter(status__in=PENDING_STATUSES)

    def awaiting_review(self) -> AnalysisQuerySet:
        """The review queue: rows with a review rank (in_queue_by_flags, kept by the services).

        One partial index answers membership and order, so the queue costs the same whatever
        the number of analyses ever made (review.bench_scale).
        """
        return self.filter(review_rank__isnull=False)

    def in_queue_by_flags(self) -> AnalysisQuerySet:
        """Finished analyses with at least one flag nobody has resolved yet: the definition
        the review rank follows (services.analyses_review_rank_refresh)."""
        open_flags = Flag.objects.filter(analysis=OuterRef("pk"), resolved_at__isnull=True)
        # A retake flag is raised at upload, before the photo is analysed: wait for the result.
        # A photo the patient removed is out, even if a flag was left open.
        return self.filter(
            Exists(open_flags), status__in=FINISHED_STATUSES, image__removed_at__isnull=True
        )

    def claimable(self, now: dt.datetime) -> AnalysisQuerySet:
        """Nobody holds a live claim: never claimed, released, or the claim ran out."""
        return self.filter(unclaimed(now))

    def claimed_by_user(self, user: Any, now: dt.datetime) -> AnalysisQuerySet:
        """Rows `user` holds a live claim on."""
        return self.filter(claimed_by=user, claim_expires_at__gt=now)

    def in_review_order(self) -> AnalysisQuerySet:
        """Urgent first, then soon, then routine; oldest first within a priority.

        The order of the queue's partial index (Meta.indexes, analysis_review_queue)."""
        return self.order_by(*REVIEW_ORDER)

    def stuck(self, *, queued_before: dt.datetime, running_before: dt.datetime) -> AnalysisQuerySet:
        """Queued too long (its message was lost), queued with a failed send (the broker was
        down), or running too long (its worker died)."""
        return self.filter(
            Q(status=AnalysisStatus.QUEUED, queued_at__lt=queued_before)
            | Q(status=AnalysisStatus.QUEUED, publish_failed_at__isnull=False)
            | Q(status=AnalysisStatus.RUNNING, started_at__lt=running_before)
        )


# Read by the queue's filters and header, carried in its index (PostgreSQL INCLUDE).
QUEUE_COLUMNS = (
    "priority", "predicted_code", "is_unknown", "confidence", "body_site", "case_opened_at",
    "claimed_by", "claim_expires_at",
)


class Analysis(models.Model):
    """One run of the skin-analysis pipeline on one image.

    The row is the task's state: queued -> running (claimed by a worker with a conditional
    UPDATE, which counts the attempt) -> done / rejected / failed. Rejections (bad quality,
    not skin) are results the patient sees; failures are our errors, with `last_error` kept.
    """

    image = models.ForeignKey(LesionImage, on_delete=models.CASCADE, related_name="analyses")
    status = models.CharField(
        max_length=10, choices=AnalysisStatus.choices, default=AnalysisStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(help_text="Last time a task was sent for it.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The outbox: set when sending its task failed (the broker was down after the row was
    # committed); the sweeper sends such rows on its next run, whatever their age.
    publish_failed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The Celery message running it: the same message delivered again (its worker died, or a
    # database error sent it back) takes the row over at once, when the run's lease proves
    # the old run gone (services.analysis_run_lease), instead of waiting for the sweeper.
    task_id = models.CharField(max_length=64, blank=True, editable=False)

    # What the pipeline said (AnalysisResult.to_dict()), and the parts the queue filters on.
    result = models.JSONField(null=True, blank=True)
    model_version = models.CharField(max_length=40, blank=True)
    outcome = models.CharField(
        max_length=20, blank=True, help_text="The pipeline's status, e.g. ok, rejected_quality."
    )
    status_detail = models.CharField(
        max_length=200, blank=True, help_text="Quality reason codes or the error code."
    )
    predicted_code = models.CharField(max_length=16, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    is_unknown = models.BooleanField(default=False)
    pipeline_ms = models.FloatField(null=True, blank=True)
    # The skin tone around the lesion (ml_worker.inference.skin_tone), so the dashboard can
    # ask how the model serves each group of skin: the individual typology angle and its group.
    ita = models.FloatField("ITA (degrees)", null=True, blank=True)
    ita_group = models.CharField(
        "ITA group", max_length=12, blank=True,
        choices=[(code, label) for code, label, _ in ITA_GROUPS],
    )
    priority = models.CharField(
        max_length=8, choices=Urgency.choices, blank=True, help_text="Of its most urgent flag."
    )
    # While the analysis awaits review (in_queue_by_flags): PRIORITY_RANK of its priority;
    # NULL otherwise. Kept by services.analyses_review_rank_refresh on every path that opens
    # or resolves a flag, finishes a row or removes its photo, so the queue is an index scan.
    review_rank = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    # Copied from the case at upload (a case's site and opening date never change), so the
    # queue's filters are answered from the analysis' own index, not by joining every image.
    body_site = models.CharField(max_length=24, choices=BodySite.choices, editable=False)
    case_opened_at = models.DateTimeField(editable=False)

    # The dermatologist reviewing it. Taken with a conditional UPDATE (review_services), so
    # two people never review one analysis; a claim left alone runs out at claim_expires_at.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="review_claims",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)

    objects = AnalysisQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "analyses"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "queued_at"]),
            models.Index(fields=["status", "started_at"]),
            # The review queue: only the rows awaiting review, in review order, with what its
            # filters and header read (PostgreSQL serves those from the index alone).
            models.Index(
                fields=["-review_rank", "created_at", "id"],
                condition=Q(review_rank__isnull=False),
                include=QUEUE_COLUMNS,
                name="analysis_review_queue",
            ),
            # The header's claimed count: the waiting rows someone holds (a handful).
            models.Index(
                fields=["claim_expires_at"],
                condition=Q(review_rank__isnull=False, claimed_by__isnull=False),
                name="analysis_review_claims",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=FINISHED_STATUSES) | Q(finished_at__isnull=False),
                name="diagnosis_analysis_finished_has_time",
            ),
            models.CheckConstraint(
                condition=Q(claimed_by__isnull=True)
                | Q(claimed_at__isnull=False, claim_expires_at__isnull=False),
                name="diagnosis_analysis_claim_has_times",
            ),
        ]

    def __str__(self) -> str:
        return f"Analysis {self.pk} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES

    @property
    def quality_reasons(self) -> list[dict[str, Any]]:
        quality = (self.result or {}).get("quality") or {}
        return list(quality.get("reasons") or [])

    @property
    def messages(self) -> list[str]:
        return list((self.result or {}).get("messages") or [])

    @property
    def guidance_code(self) -> str:
        """The knowledge-base entry that explains this result to the patient ("" for none)."""
        if self.status != AnalysisStatus.DONE:
            return ""
        # An ordinary photo gets no class: what to watch for is the unidentified lesion's.
        return UNKNOWN_CODE if self.is_unknown or self.is_not_dermoscopic else self.predicted_code

    @property
    def is_not_dermoscopic(self) -> bool:
        return self.outcome == "not_dermoscopic"

    @property
    def needs_review(self) -> bool:
        # Iterates (prefetched) flags rather than querying, so lists stay one query per table.
        return any(flag.resolved_at is None for flag in self.flags.all())

    @property
    def top3(self) -> list[dict[str, Any]]:
        classification = (self.result or {}).get("classification") or {}
        return list(classification.get("top3") or [])

    def claim_holder(self, now: dt.datetime) -> Any:
        """Who holds a live claim on it now, or None."""
        if self.claimed_by_id is None or self.claim_expires_at is None:
            return None
        return self.claimed_by if self.claim_expires_at > now else None


class ReviewQueueCount(models.Model):
    """How many analyses wait for review at each rank (Analysis.review_rank: PRIORITY_RANK of
    their priority, 0 for none), kept by services.analyses_review_rank_refresh in the same
    transaction as the ranks, so the queue's header reads four small rows instead of counting
    every waiting analysis (review.queue.queue_summary)."""

    rank = models.PositiveSmallIntegerField(primary_key=True)
    waiting = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"rank {self.rank}: {self.waiting} waiting"


class FlagKind(models.TextChoices):
    SUSPECTED_MALIGNANCY = "suspected_malignancy", "Suspected malignancy"
    UNKNOWN_LESION = "unknown_lesion", "Not one of the known types"
    LOW_CONFIDENCE = "low_confidence", "Low confidence"
    REPEATED_POOR_QUALITY = "repeated_poor_quality", "Repeated poor-quality photos"
    PATIENT_REPORTED_CHANGE = "patient_reported_change", "Patient reports change or bleeding"
    RETAKE_RECEIVED = "retake_received", "New photo after a retake request"
    NOT_DERMOSCOPIC = "not_dermoscopic", "Ordinary photo, not dermoscopic"


class Flag(models.Model):
    """A reason a dermatologist must look at an analysis, with its priority.

    Resolved by the review (the next step of the workflow); until then the analysis is in
    the review queue.
    """

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=32, choices=FlagKind.choices)
    priority = models.CharField(max_length=8, choices=Urgency.choices)
    reason = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["analysis", "kind"], name="diagnosis_flag_once"),
        ]
        indexes = [
            # The queue's flag filter and a review's flags: open flags only.
            models.Index(
                fields=["kind", "analysis"], condition=Q(resolved_at__isnull=True),
                name="flag_open_by_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.priority})"
