from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from knowledge.models import Disease, SeverityGroup


def disease_index(request: HttpRequest) -> HttpResponse:
    diseases = list(Disease.objects.order_by("name"))
    groups = [
        (label, [d for d in diseases if d.severity_group == value])
        for value, label in SeverityGroup.choices
    ]
    return render(
        request,
        "knowledge/disease_index.html",
        {"groups": [(label, items) for label, items in groups if items]},
    )


def disease_detail(request: HttpRequest, code: str) -> HttpResponse:
    disease = get_object_or_404(Disease.objects.with_content(), code=code)
    return render(request, "knowledge/disease_detail.html", {"disease": disease})
