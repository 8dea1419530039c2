from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.admin import UserAdmin
from django.db.models import Model
from django.http import HttpRequest

from audit.mixins import AuditedAdminMixin
from patients.forms import AccountChangeForm, AccountCreationForm
from patients.models import PatientProfile, User


class PatientProfileInline(admin.StackedInline):
    model = PatientProfile
    can_delete = False
    extra = 0
    max_num = 1
    # Consent is given by the patient, never edited on their behalf.
    readonly_fields = (
        "consent_care",
        "consent_care_at",
        "consent_research",
        "consent_research_at",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Profiles come from sign-up, with the patient's own consent.
        return False


@admin.register(User)
class AccountAdmin(AuditedAdminMixin, UserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    list_display = ("username", "email", "role", "is_active", "last_login", "date_joined")
    list_filter = ("role", "is_active")
    search_fields = ("username", "email", "first_name", "last_name")
    ordering = ("username",)
    # is_staff and is_superuser follow from the role (User.set_role), so they are read-only.
    readonly_fields = ("is_staff", "is_superuser", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Role", {"fields": ("role", "is_active", "is_staff", "is_superuser")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "role", "password1", "password2"),
            },
        ),
    )
    inlines = [PatientProfileInline]

    def get_inlines(self, request: HttpRequest, obj: Model | None) -> list[type[InlineModelAdmin]]:
        # Only patients have a profile, and only sign-up creates one.
        if obj is None or not getattr(obj, "is_patient", False):
            return []
        return list(self.inlines)
