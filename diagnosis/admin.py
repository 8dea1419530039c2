from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from audit.mixins import AuditedAdminMixin
from diagnosis.models import Analysis, Case, Flag, LesionImage


class LesionImageInline(admin.TabularInline):
    model = LesionImage
    extra = 0
    can_delete = False
    fields = ("preview", "created_at", "width", "height", "original_format", "sha256")
    readonly_fields = fields

    @admin.display(description="Photo")
    def preview(self, image: LesionImage) -> SafeString:
        # Through the permission-checked view: the storage has no public URL.
        return format_html('<img src="{}" width="80" alt="">', image.get_thumbnail_url())

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("id", "title", "patient", "status", "body_site", "duration", "changed",
                    "bleeds", "created_at")
    list_filter = ("status", "body_site", "changed", "bleeds", "itches")
    # Moved by the review services only, so the timeline always says why; and what the
    # patient has read is theirs to change, by opening the case.
    readonly_fields = ("status", "patient_seen_review_at")
    search_fields = ("patient__username", "title")
    raw_id_fields = ("patient",)
    inlines = [LesionImageInline]


class FlagInline(admin.TabularInline):
    model = Flag
    extra = 0
    fields = ("kind", "priority", "reason", "created_at", "resolved_at", "resolved_by")
    readonly_fields = ("kind", "priority", "reason", "created_at")


@admin.register(Analysis)
class AnalysisAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "id", "status", "outcome", "predicted_code", "confidence", "priority", "attempts",
        "model_version", "created_at", "finished_at", "claimed_by",
    )
    list_filter = ("status", "outcome", "priority", "predicted_code", "is_unknown",
                   "model_version", "ita_group")
    search_fields = ("=id", "=image__case__id")
    readonly_fields = (
        "image", "status", "attempts", "last_error", "created_at", "queued_at", "started_at",
        "finished_at", "result", "model_version", "outcome", "status_detail", "predicted_code",
        "confidence", "is_unknown", "pipeline_ms", "ita", "ita_group", "priority",
        # Claims change through the review services (review.admin's reassign action), never
        # by hand.
        "claimed_by", "claimed_at", "claim_expires_at",
    )
    inlines = [FlagInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # analyses are created by uploads, never by hand
