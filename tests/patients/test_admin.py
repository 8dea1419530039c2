from __future__ import annotations

import pytest
from django.test import Client

from patients.models import Role, User

pytestmark = pytest.mark.django_db


def test_an_administrator_creates_a_dermatologist_in_the_admin(client: Client, admin: User) -> None:
    client.force_login(admin)

    response = client.post(
        "/admin/patients/user/add/",
        {
            "username": "dana",
            "email": "dana@example.com",
            "role": "dermatologist",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    dana = User.objects.get(username="dana")
    assert dana.role == Role.DERMATOLOGIST
    assert not dana.is_staff
    assert dana.check_password("a long enough passphrase")


def test_the_admin_does_not_create_patients_without_sign_up(client: Client, admin: User) -> None:
    client.force_login(admin)

    response = client.post(
        "/admin/patients/user/add/",
        {
            "username": "eve",
            "email": "eve@example.com",
            "role": "patient",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )

    assert response.status_code == 200
    assert not User.objects.filter(username="eve").exists()


def test_promoting_dana_to_administrator_makes_her_staff(
    client: Client, admin: User, dana: User
) -> None:
    client.force_login(admin)
    page = client.get(f"/admin/patients/user/{dana.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields if name != "password"}
    data.update({"role": "admin", "is_active": "on"})
    data.update({"patient_profile-TOTAL_FORMS": "0", "patient_profile-INITIAL_FORMS": "0"})

    response = client.post(f"/admin/patients/user/{dana.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    dana.refresh_from_db()
    assert (dana.role, dana.is_staff, dana.is_superuser) == (Role.ADMIN, True, True)


def test_the_admin_shows_alices_profile_inline(client: Client, admin: User, alice: User) -> None:
    client.force_login(admin)

    response = client.get(f"/admin/patients/user/{alice.pk}/change/")

    assert response.status_code == 200
    assert b"consent to store photos for care" in response.content.lower()
