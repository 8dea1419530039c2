"""The REST API, mounted at /api/v1/."""

from django.urls import path

from diagnosis import api as diagnosis_api
from diagnosis import timeline_api as diagnosis_timeline_api
from knowledge import api as knowledge_api
from patients import api as patient_api
from review import api as review_api

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
    path("cases/<int:pk>/fhir/", diagnosis_api.CaseFhirApi.as_view(), name="api_case_fhir"),
    path("analyses/<int:pk>/", diagnosis_api.AnalysisDetailApi.as_view(), name="api_analysis"),
    path("images/<int:pk>/", diagnosis_api.ImageApi.as_view(), name="api_image"),
    path("images/<int:pk>/hide/", diagnosis_api.ImageHideApi.as_view(), name="api_image_hide"),
    path("images/<int:pk>/file/", diagnosis_api.ImageFileApi.as_view(), name="api_image_file"),
    path(
        "images/<int:pk>/thumbnail/",
        diagnosis_api.ImageThumbnailApi.as_view(),
        name="api_image_thumbnail",
    ),
    # Dermatologists' review (review/api.py)
    path("review/queue/", review_api.QueueApi.as_view(), name="api_review_queue"),
    path("review/queue/summary/", review_api.QueueSummaryApi.as_view(),
         name="api_review_queue_summary"),
    path("review/analyses/<int:pk>/", review_api.ReviewDetailApi.as_view(),
         name="api_review_detail"),
    path("review/analyses/<int:pk>/claim/", review_api.ClaimApi.as_view(),
         name="api_review_claim"),
    path("review/analyses/<int:pk>/release/", review_api.ReleaseApi.as_view(),
         name="api_review_release"),
    path("review/analyses/<int:pk>/reassign/", review_api.ReassignApi.as_view(),
         name="api_review_reassign"),
    path("review/analyses/<int:pk>/sign-off/", review_api.SignOffApi.as_view(),
         name="api_review_sign_off"),
    path("review/analyses/<int:pk>/escalate/", review_api.EscalateApi.as_view(),
         name="api_review_escalate"),
    path("review/analyses/<int:pk>/retake/", review_api.RetakeApi.as_view(),
         name="api_review_retake"),
    path("review/images/<int:pk>/annotations/", review_api.ImageAnnotationsApi.as_view(),
         name="api_review_image_annotations"),
    path("review/annotations/<int:pk>/", review_api.AnnotationApi.as_view(),
         name="api_review_annotation"),
    path("review/export/", review_api.ExportApi.as_view(), name="api_review_export"),
    path("cases/<int:pk>/timeline/", diagnosis_timeline_api.CaseTimelineApi.as_view(),
         name="api_case_timeline"),
]
