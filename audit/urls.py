from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("cases/<int:pk>/timeline/", views.case_timeline, name="case_timeline"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
