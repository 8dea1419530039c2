from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from patients import views as patient_views
from skincare_project.views import favicon, healthz

admin.site.site_header = "Skincare administration"
admin.site.site_title = "Skincare admin"

# MEDIA_URL is deliberately absent: uploaded files are private (see settings.STORAGES).
urlpatterns = [
    path("", patient_views.home, name="home"),
    path("healthz/", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/signup/", patient_views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("knowledge/", include("knowledge.urls")),
    path("", include("diagnosis.urls")),
    path("", include("review.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("skincare_project.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api_docs"),
]
