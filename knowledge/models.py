"""The disease knowledge base that patients, dermatologists and the classifier's results share.

One Disease per code the classifier can output (ak, bcc, bkl, df, mel, nv, scc, vasc) plus
`unknown` for "none of the known types". Edited by administrators in the Django admin.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

UNKNOWN_CODE = "unknown"


class SeverityGroup(models.TextChoices):
    BENIGN = "benign", "Benign"
    PRE_MALIGNANT = "pre_malignant", "Pre-malignant"
    MALIGNANT = "malignant", "Malignant"
    UNKNOWN = "unknown", "Unknown"


class Urgency(models.TextChoices):
    """How soon someone with this condition should see a doctor."""

    ROUTINE = "routine", "Routine"
    SOON = "soon", "Soon (within weeks)"
    URGENT = "urgent", "Urgent (within two weeks)"


class DiseaseQuerySet(models.QuerySet["Disease"]):
    def with_content(self) -> DiseaseQuerySet:
        return self.prefetch_related("items", "sources")


class Disease(models.Model):
    code = models.SlugField(
        max_length=16, unique=True, help_text="The classifier's label, e.g. 'mel'."
    )
    name = models.CharField(max_length=120)
    also_known_as = models.CharField(max_length=255, blank=True)
    summary = models.TextField(help_text="Two or three sentences, in plain language.")
    severity_group = models.CharField(max_length=16, choices=SeverityGroup.choices)
    urgency = models.CharField(max_length=8, choices=Urgency.choices)
    when_to_see_doctor = models.TextField()
    icd10 = models.CharField(
        "ICD-10-CM code", max_length=10, blank=True, help_text="e.g. C43.9; blank if none."
    )
    last_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DiseaseQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return reverse("knowledge:disease_detail", kwargs={"code": self.code})

    def _texts(self, kind: str) -> list[str]:
        # Filters in Python so that a prefetch (`with_content()`) serves every list.
        return [item.text for item in self.items.all() if item.kind == kind]

    @property
    def symptoms(self) -> list[str]:
        return self._texts(ItemKind.SYMPTOM)

    @property
    def precautions(self) -> list[str]:
        return self._texts(ItemKind.PRECAUTION)

    @property
    def treatments(self) -> list[str]:
        return self._texts(ItemKind.TREATMENT)

    @property
    def medications(self) -> list[str]:
        return self._texts(ItemKind.MEDICATION)

    @property
    def is_malignant(self) -> bool:
        return self.severity_group == SeverityGroup.MALIGNANT


class ItemKind(models.TextChoices):
    SYMPTOM = "symptom", "Symptom"
    PRECAUTION = "precaution", "Precaution"
    TREATMENT = "treatment", "Treatment"
    MEDICATION = "medication", "Medication"


class DiseaseItem(models.Model):
    """One line of an ordered list on a disease page (a symptom, a precaution, ...)."""

    disease = models.ForeignKey(Disease, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    text = models.TextField()
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["kind", "order", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class DiseaseSource(models.Model):
    disease = models.ForeignKey(Disease, on_delete=models.CASCADE, related_name="sources")
    publisher = models.CharField(max_length=80, help_text="e.g. DermNet, NHS, AAD.")
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.publisher}: {self.title}"
