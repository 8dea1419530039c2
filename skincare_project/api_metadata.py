"""What an OPTIONS request to the API answers (settings.REST_FRAMEWORK's metadata class)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.metadata import SimpleMetadata

if TYPE_CHECKING:  # rest_framework.views imports this module while it is being defined
    from rest_framework.request import Request
    from rest_framework.views import APIView


class NoActionsMetadata(SimpleMetadata):
    """DRF's OPTIONS answer (name, description, renders, parses) without its "actions".

    SimpleMetadata describes a route's POST and PUT fields by building the view's
    serializer_class, and asserts on the views that pick their input serializer in the
    handler (most of ours): OPTIONS was a 500 there. The OpenAPI schema (/api/schema/)
    already describes every route's input, and it does so for every route alike.
    """

    def determine_actions(self, request: Request, view: APIView) -> dict[str, Any]:
        return {}
