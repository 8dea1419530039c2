"""The audit log and timelines in the admin: browsable and filterable, never editable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent, TimelineEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """No add, change or delete, whatever the user's permissions: the rows are append-only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "username", "role", "action", "object_type", "object_id",
                    "method", "path", "status_code", "ip_address")
    list_filter = ("action", "role", "object_type", "created_at")
    search_fields = ("username", "=object_id", "path", "ip_address")
    date_hierarchy = "created_at"
    list_select_related = False
    show_full_result_count = False  # COUNT(*) over a large log is slow


@admin.register(TimelineEvent)
class TimelineEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "case", "kind", "actor", "actor_role", "patient_visible")
    list_filter = ("kind", "actor_role", "patient_visible", "created_at")
    search_fields = ("=case__id", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("case", "actor")
