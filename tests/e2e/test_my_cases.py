"""My cases in a real browser: alice reads where each case stands in plain words, and the
"new" badge on dana's review goes once she has opened that case.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from PIL import Image

from diagnosis.models import Case, LesionImage
from knowledge.models import Disease
from patients.models import User
from review import services as review_services
from review.models import Recommendation, Verdict
from review.services import Conclusion
from tests.diagnosis.conftest import jpeg, store_photo
from tests.e2e.conftest import Browser
from tests.factories import CaseFactory, FlaggedAnalysisFactory, LesionImageFactory

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
    review_services.review_claim(analysis=analysis, user=dana)
    review = review_services.review_sign_off(
        analysis=analysis,
        reviewer=dana,
        conclusion=Conclusion(
            verdict=Verdict.CORRECT,
            diagnosis=Disease.objects.get(code="bkl"),
            recommendation=Recommendation.SEE_DOCTOR,
            follow_up_days=28,
        ),
    )
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
