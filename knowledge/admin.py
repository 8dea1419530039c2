from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from knowledge.models import Disease, DiseaseItem, DiseaseSource
from knowledge.names import condition_names_forget
from knowledge.services import disease_mark_reviewed

# A list item is a sentence or two: the admin's default textarea (10 rows) for each of a
# disease's ~15 items made the change form some 6,800 px tall. Two rows, as wide as the row
# allows, hold all but 2 of the 108 seeded items at 1280 px; those scroll in their box.
ITEM_TEXT = forms.Textarea(attrs={"rows": 2, "cols": 100, "class": "item-text"})
LONG_TEXT = forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField"})


class DiseaseItemInline(admin.TabularInline):
    model = DiseaseItem
    extra = 1
    fields = ("kind", "order", "text")
    formfield_overrides = {models.TextField: {"widget": ITEM_TEXT}}


class DiseaseSourceInline(admin.TabularInline):
    model = DiseaseSource
    # A plain URL input: the admin's own shows the link again above the box ("Currently:"),
    # which pushed the table past the page's right edge.
    formfield_overrides = {
        models.URLField: {"assume_scheme": "https", "widget": forms.URLInput(attrs={"size": 40})}
    }
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
    formfield_overrides = {models.TextField: {"widget": LONG_TEXT}}
    readonly_fields = ("last_reviewed_by", "last_reviewed_at", "updated_at", "preview")
    actions = ["mark_reviewed"]
    fieldsets = (
        (None, {"fields": ("code", "name", "also_known_as", "icd10")}),
        ("Triage", {"fields": ("severity_group", "urgency")}),
        ("For patients", {"fields": ("summary", "when_to_see_doctor")}),
        ("Review", {"fields": ("last_reviewed_by", "last_reviewed_at", "updated_at")}),
        # Folded (a <details> element): the rendered page is as long as the form itself.
        ("Preview", {"fields": ("preview",), "classes": ("collapse",)}),
    )

    class Media:
        css = {"all": ("knowledge/disease_admin.css",)}

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Disease], search_term: str
    ) -> tuple[QuerySet[Disease], bool]:
        results, _ = super().get_search_results(request, queryset, search_term)
        # Searching item text joins many rows per disease; show each disease once.
        return results.distinct(), False

    def save_model(self, request: HttpRequest, obj: Disease, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        condition_names_forget()  # a renamed entry shows its new name at once

    def delete_model(self, request: HttpRequest, obj: Disease) -> None:
        super().delete_model(request, obj)
        condition_names_forget()

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
