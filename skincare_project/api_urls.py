"""The REST API, mounted at /api/v1/."""

from django.urls import include, path

from diagnosis import api as diagnosis_api
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
    path("cases/", diagnosis_api.CaseListCreateApi.as_view(), name="api_case_list"),
    path("cases/<int:pk>/", diagnosis_api.CaseDetailApi.as_view(), name="api_case_detail"),
    path("cases/<int:pk>/images/", diagnosis_api.CaseImagesApi.as_view(), name="api_case_images"),
    path("analyses/<int:pk>/", diagnosis_api.AnalysisDetailApi.as_view(), name="api_analysis"),
    path("images/<int:pk>/file/", diagnosis_api.ImageFileApi.as_view(), name="api_image_file"),
    path(
        "images/<int:pk>/thumbnail/",
        diagnosis_api.ImageThumbnailApi.as_view(),
        name="api_image_thumbnail",
    ),
    # The case timeline (audit/api_urls.py)
    path("", include("audit.api_urls")),
]
