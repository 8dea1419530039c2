from django.urls import path

from review import dashboard_views, views

app_name = "review"

urlpatterns = [
    path("staff/", views.dermatologist_home, name="home"),
    path("review/", views.review_queue, name="queue"),
    path("review/export/", views.review_export, name="export"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("review/analyses/<int:pk>/", views.review_detail, name="detail"),
    path("review/analyses/<int:pk>/claim/", views.review_claim, name="claim"),
    path("review/analyses/<int:pk>/release/", views.review_release, name="release"),
    path("review/analyses/<int:pk>/sign-off/", views.review_sign_off, name="sign_off"),
    path("review/analyses/<int:pk>/escalate/", views.review_escalate, name="escalate"),
    path("review/analyses/<int:pk>/retake/", views.review_retake, name="retake"),
]
