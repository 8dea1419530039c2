from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from patients import views as patient_views
from skincare_project.views import ApiDocsView, favicon, healthz

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
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api_docs"),
]

# JSON under /api/, Django's pages elsewhere (skincare_project/errors.py).
handler400 = "skincare_project.errors.bad_request"
handler403 = "skincare_project.errors.permission_denied"
handler404 = "skincare_project.errors.page_not_found"
handler500 = "skincare_project.errors.server_error"
