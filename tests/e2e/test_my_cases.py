"""My cases in a real browser: alice reads where each case stands in plain words, and the
"new" badge on dana's review goes once she has opened that case.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from PIL import Image

from diagnosis.models import Case, LesionImage
from patients.models import User
from tests.diagnosis.conftest import jpeg, store_photo
from tests.e2e.conftest import Browser
from tests.factories import (
    CaseFactory,
    FlaggedAnalysisFactory,
    LesionImageFactory,
    claim_and_sign_off,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def photo_of(case: Case) -> LesionImage:
    """A photo row with real (plain, made-up) files, so its thumbnail shows."""
    image = LesionImageFactory.create(case=case)
    store_photo(image, jpeg(Image.new("RGB", (600, 450), (182, 124, 108))))
    return image


def test_alice_reads_where_each_case_stands_and_the_new_badge_goes_once_opened(
    browser: Browser, alice: User, dana: User
) -> None:
    reviewed = CaseFactory.create(patient=alice, title="Mole on my back")
    analysis = FlaggedAnalysisFactory.create(image=photo_of(reviewed))
    review = claim_and_sign_off(analysis, dana)
    waiting = CaseFactory.create(patient=alice, title="Spot on my shin")
    FlaggedAnalysisFactory.create(image=photo_of(waiting))
    CaseFactory.create(patient=alice, title="Freckle on my nose")  # no photo yet
    day = timezone.localdate(review.signed_off_at)

    browser.log_in("alice")
    browser.click_link("My cases")
    rows = browser.wait_for_text("main .case-list", "Mole on my back")
    text = " ".join(rows.text.split())
    assert f"Reviewed by Dr Dana Derm on {day.day} {day:%B %Y} New" in text
    assert "Waiting for a dermatologist" in text
    assert "Add a photo" in text
    browser.screenshot("my-cases-statuses")

    browser.click_link("Mole on my back")
    browser.wait_for_text(
        "#conclusion-summary",
        f"Dr Dana Derm reviewed your photo on {day.day} {day:%B %Y}: benign keratosis.",
    )
    browser.click_link("My cases")
    row = browser.wait_for_text(
        "[data-testid=case-row][data-status=reviewed]", "Reviewed by Dr Dana Derm"
    )
    assert "New" not in row.text.split()
