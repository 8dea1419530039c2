"""Mounted at /api/v1/ next to skincare_project.api_urls."""

from django.urls import path

from audit import api

urlpatterns = [
    path("cases/<int:pk>/timeline/", api.CaseTimelineApi.as_view(), name="api_case_timeline"),
]
