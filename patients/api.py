"""Account endpoints: register, token, me, and the staff/admin views of accounts."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db.models import Count, Q, QuerySet
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from audit.mixins import AuditedViewMixin, audit_target
from audit.services import record_access
from knowledge.models import Disease
from patients.models import FitzpatrickType, PatientProfile, Role, Sex, User
from patients.permissions import IsAdminRole, IsDermatologist
from patients.services import patient_register, user_token_get


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    date_of_birth = serializers.DateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    fitzpatrick_type = serializers.ChoiceField(
        choices=FitzpatrickType.choices, required=False, allow_null=True
    )
    phone = serializers.CharField(max_length=24, required=False, allow_blank=True)
    notification_email = serializers.EmailField(required=False, allow_blank=True)
    consent_care = serializers.BooleanField(
        help_text="Must be true: photos are stored so clinicians can assess them."
    )
    consent_research = serializers.BooleanField(required=False, default=False)


class ProfileOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = PatientProfile
        fields = (
            "date_of_birth",
            "sex",
            "fitzpatrick_type",
            "phone",
            "notification_email",
            "consent_care",
            "consent_care_at",
            "consent_research",
            "consent_research_at",
        )


class UserOutputSerializer(serializers.ModelSerializer):
    profile = ProfileOutputSerializer(source="patient_profile", read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = ("id", "username", "email", "first_name", "last_name", "role", "profile")


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()
    user = UserOutputSerializer()


def _token_response(user: User, http_status: int = status.HTTP_200_OK) -> Response:
    token = user_token_get(user=user)
    data = TokenOutputSerializer({"token": token.key, "user": user}).data
    return Response(data, status=http_status)


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class RegisterView(APIView):
    """Create a patient account and return its API token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=RegisterInputSerializer, responses={201: TokenOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = patient_register(**serializer.validated_data)
        record_access(request, "create", user, user=user)
        return _token_response(user, status.HTTP_201_CREATED)


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class TokenObtainView(APIView):
    """Exchange a username and password for an API token (limited by django-axes)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=TokenInputSerializer, responses={200: TokenOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # django-axes records failures and lockouts as attributes of the request it is given;
        # AxesMiddleware only sees them on the Django HttpRequest, not on DRF's wrapper.
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if not isinstance(user, User):
            raise ValidationError({"detail": "Unable to log in with these credentials."})
        record_access(request, "login", user, user=user, detail={"via": "api_token"})
        return _token_response(user)


class MeView(AuditedViewMixin, APIView):
    """The signed-in account, with the patient profile for patients."""

    @extend_schema(responses=UserOutputSerializer)
    def get(self, request: Request) -> Response:
        audit_target(request, request.user)  # type: ignore[arg-type]
        return Response(UserOutputSerializer(request.user).data)


class StaffSummarySerializer(serializers.Serializer):
    patients = serializers.IntegerField()
    patients_consenting_to_research = serializers.IntegerField()
    diseases = serializers.IntegerField()
    diseases_never_reviewed = serializers.IntegerField()


class StaffSummaryView(APIView):
    """Dermatologists: platform counts (patients, research consent, dermatologists, entries)."""

    permission_classes = [IsDermatologist]

    @extend_schema(responses=StaffSummarySerializer)
    def get(self, request: Request) -> Response:
        profiles = PatientProfile.objects.aggregate(
            total=Count("id"), research=Count("id", filter=Q(consent_research=True))
        )
        data = {
            "patients": profiles["total"],
            "patients_consenting_to_research": profiles["research"],
            "diseases": Disease.objects.count(),
            "diseases_never_reviewed": Disease.objects.filter(
                last_reviewed_at__isnull=True
            ).count(),
        }
        return Response(StaffSummarySerializer(data).data)


class UserListOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "username", "email", "role", "is_active", "date_joined", "last_login")


class UserListView(AuditedViewMixin, generics.ListAPIView):
    """Administrators: every account and its role, filterable by `?role=`."""

    permission_classes = [IsAdminRole]
    serializer_class = UserListOutputSerializer
    audit_object_type = "patients.user"
    audit_actions = {"GET": "list"}

    def get_queryset(self) -> QuerySet[User]:
        users = User.objects.order_by("username")
        role = self.request.query_params.get("role")
        if role in Role.values:
            users = users.filter(role=role)
        return users
