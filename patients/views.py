from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from audit.services import record_access
from patients.forms import SignupForm
from patients.models import PatientProfile, User
from patients.services import patient_register


def home(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {}
    user = request.user
    if isinstance(user, User) and user.is_patient:
        profile = context["profile"] = PatientProfile.objects.filter(user=user).first()
        if profile is not None:
            record_access(request, "view", profile)
    return render(request, "home.html", context)


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = patient_register(
                username=data["username"],
                email=data["email"],
                password=data["password1"],
                date_of_birth=data["date_of_birth"],
                sex=data["sex"],
                fitzpatrick_type=data["fitzpatrick_type"],
                phone=data["phone"],
                notification_email=data["notification_email"],
                consent_care=data["consent_care"],
                consent_research=data["consent_research"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            record_access(request, "create", user, user=user)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome! Your account has been created.")
            return redirect("home")
    return render(request, "patients/signup.html", {"form": form})
