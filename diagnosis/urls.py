from django.urls import path

from diagnosis import review_views, views

app_name = "diagnosis"

urlpatterns = [
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/upload/", views.image_upload, name="image_upload"),
    path("cases/<int:pk>/status/", views.case_status, name="case_status"),
    path("images/<int:pk>/", views.image_file, name="image_file"),
    path("images/<int:pk>/thumbnail/", views.image_thumbnail, name="image_thumbnail"),
    path("images/<int:pk>/remove/", views.image_remove, name="image_remove"),
    path("images/<int:pk>/hide/", views.image_hide, name="image_hide"),
    # Dermatologists
    path("review/", review_views.review_queue, name="review_queue"),
    path("review/export/", review_views.review_export, name="review_export"),
    path("review/analyses/<int:pk>/", review_views.review_detail, name="review_detail"),
    path("review/analyses/<int:pk>/claim/", review_views.review_claim, name="review_claim"),
    path("review/analyses/<int:pk>/release/", review_views.review_release,
         name="review_release"),
    path("review/analyses/<int:pk>/sign-off/", review_views.review_sign_off,
         name="review_sign_off"),
    path("review/analyses/<int:pk>/escalate/", review_views.review_escalate,
         name="review_escalate"),
    path("review/analyses/<int:pk>/retake/", review_views.review_retake, name="review_retake"),
]
