from django.urls import path

from diagnosis import timeline_views, views

app_name = "diagnosis"

urlpatterns = [
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/upload/", views.image_upload, name="image_upload"),
    path("cases/<int:pk>/status/", views.case_status, name="case_status"),
    path("cases/<int:pk>/timeline/", timeline_views.case_timeline, name="case_timeline"),
    path("images/<int:pk>/", views.image_file, name="image_file"),
    path("images/<int:pk>/thumbnail/", views.image_thumbnail, name="image_thumbnail"),
    path("images/<int:pk>/remove/", views.image_remove, name="image_remove"),
    path("images/<int:pk>/hide/", views.image_hide, name="image_hide"),
]
