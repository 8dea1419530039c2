"""Admin for reviews and annotations (read-only: they are clinical records) and reassigning.

Imported by diagnosis/admin.py. Reviews and annotations are written by dermatologists
through the review pages; administrators read them, and hand a case to another
dermatologist with the "Reassign review" action on analyses.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audit.admin import ReadOnlyAdmin
from audit.mixins import AuditedAdminMixin
from diagnosis.admin import AnalysisAdmin
from diagnosis.models import Analysis
from diagnosis.views import request_user
from patients.models import Role, User
from review import services
from review.models import Annotation, Review


class _ReadOnlyAdmin(AuditedAdminMixin, ReadOnlyAdmin):
    """Decisions are never edited: browse them, audited."""


@admin.register(Review)
class ReviewAdmin(_ReadOnlyAdmin):
    list_display = ("id", "case", "analysis", "reviewer", "outcome", "verdict", "diagnosis",
                    "diagnosis_text", "model_code", "agrees_with_model", "is_second_opinion",
                    "signed_off_at")
    list_filter = ("outcome", "verdict", "agrees_with_model", "is_second_opinion",
                   "recommendation", "self_care_override", "model_code", "diagnosis")
    search_fields = ("=id", "=case__id", "=analysis__id", "reviewer__username")
    date_hierarchy = "signed_off_at"
    list_select_related = ("reviewer", "diagnosis")


@admin.register(Annotation)
class AnnotationAdmin(_ReadOnlyAdmin):
    list_display = ("id", "image", "author", "shape", "label", "created_at")
    list_filter = ("shape",)
    search_fields = ("=id", "=image__id", "=image__case__id", "author__username", "label")
    list_select_related = ("author",)


class ReassignForm(forms.Form):
    dermatologist = forms.ModelChoiceField(
        queryset=User.objects.filter(role=Role.DERMATOLOGIST, is_active=True).order_by(
            "username"
        ),
    )


@admin.action(description="Reassign review to a dermatologist…")
def reassign_review(
    modeladmin: admin.ModelAdmin[Analysis], request: HttpRequest, queryset: QuerySet[Analysis]
) -> HttpResponse | None:
    """Ask for the dermatologist, then hand them every selected analysis."""
    form = ReassignForm(request.POST if "dermatologist" in request.POST else None)
    if form.is_bound and form.is_valid():
        to_user = form.cleaned_data["dermatologist"]
        done = 0
        for analysis in queryset.select_related("image__case"):
            try:
                services.review_reassign(analysis=analysis, to_user=to_user,
                                         by=request_user(request))
                done += 1
            except ValidationError as exc:
                messages.error(request, f"Analysis {analysis.pk}: {' '.join(exc.messages)}")
            except PermissionDenied as exc:
                messages.error(request, f"Analysis {analysis.pk}: {exc}")
        if done:
            messages.success(request, f"Reassigned {done} to {to_user.username}.")
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Reassign review",
        "form": form,
        "analyses": queryset,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return render(request, "admin/review/reassign_review.html", context)


# The analysis admin is diagnosis's; the review app adds the one action that moves a claim,
# so diagnosis needs to know nothing of reviews.
admin.site.unregister(Analysis)


@admin.register(Analysis)
class ReviewedAnalysisAdmin(AnalysisAdmin):
    actions = [reassign_review]
