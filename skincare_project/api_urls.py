"""The REST API, mounted at /api/v1/."""

from django.urls import path

from knowledge import api as knowledge_api
from patients import api as patient_api

urlpatterns = [
    path("auth/register/", patient_api.RegisterView.as_view(), name="api_register"),
    path("auth/token/", patient_api.TokenObtainView.as_view(), name="api_token"),
    path("me/", patient_api.MeView.as_view(), name="api_me"),
    path("staff/summary/", patient_api.StaffSummaryView.as_view(), name="api_staff_summary"),
    path("users/", patient_api.UserListView.as_view(), name="api_users"),
    path("diseases/", knowledge_api.DiseaseListView.as_view(), name="api_disease_list"),
    path(
        "diseases/<slug:code>/",
        knowledge_api.DiseaseDetailView.as_view(),
        name="api_disease_detail",
    ),
]
