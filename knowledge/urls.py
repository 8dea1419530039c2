from django.urls import path

from knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("", views.disease_index, name="disease_index"),
    path("<slug:code>/", views.disease_detail, name="disease_detail"),
]
