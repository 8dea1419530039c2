from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from knowledge.models import Disease, DiseaseItem, DiseaseSource
from knowledge.services import disease_mark_reviewed


class DiseaseItemInline(admin.TabularInline):
    model = DiseaseItem
    extra = 1
    fields = ("kind", "order", "text")


class DiseaseSourceInline(admin.TabularInline):
    model = DiseaseSource
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 1
    fields = ("order", "publisher", "title", "url")


@admin.register(Disease)
class DiseaseAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "severity_group",
        "urgency",
        "icd10",
        "last_reviewed_at",
        "last_reviewed_by",
    )
    list_filter = ("severity_group", "urgency", "last_reviewed_at")
    search_fields = ("code", "name", "also_known_as", "icd10", "summary", "items__text")
    ordering = ("code",)
    inlines = [DiseaseItemInline, DiseaseSourceInline]
    readonly_fields = ("last_reviewed_by", "last_reviewed_at", "updated_at", "preview")
    actions = ["mark_reviewed"]
    fieldsets = (
        (None, {"fields": ("code", "name", "also_known_as", "icd10")}),
        ("Triage", {"fields": ("severity_group", "urgency")}),
        ("For patients", {"fields": ("summary", "when_to_see_doctor")}),
        ("Review", {"fields": ("last_reviewed_by", "last_reviewed_at", "updated_at")}),
        ("Preview", {"fields": ("preview",)}),
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Disease], search_term: str
    ) -> tuple[QuerySet[Disease], bool]:
        results, _ = super().get_search_results(request, queryset, search_term)
        # Searching item text joins many rows per disease; show each disease once.
        return results.distinct(), False

    @admin.display(description="Patient page (as last saved)")
    def preview(self, obj: Disease) -> SafeString | str:
        if obj.pk is None:
            return "Save the entry to see how patients will see it."
        html = render_to_string("knowledge/_disease_body.html", {"disease": obj})
        # The admin turns newlines in read-only values into <br>; the markup needs none.
        return mark_safe(html.replace("\n", " "))

    @admin.action(description="Mark selected entries as reviewed by me")
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[Disease]) -> None:
        count = disease_mark_reviewed(diseases=queryset, reviewer=request.user)
        self.message_user(request, f"Marked {count} entries as reviewed.", messages.SUCCESS)
