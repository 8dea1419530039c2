"""Clinical safety in a real browser: dana cannot send a melanoma home with "self-care" by
accident, and alice is never told that an unreviewed lesion is harmless.

Selectors are the ones listed at the top of review/views.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from diagnosis.models import Analysis
from patients.models import User
from review import services
from review.models import Review
from tests.diagnosis.conftest import NEVUS, store_photo
from tests.e2e.conftest import Browser
from tests.factories import FlaggedAnalysisFactory, LesionImageFactory, review_rank_sync

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

REASON = "Lentigo maligna in a 94-year-old in palliative care; agreed with the family."
MESSAGE = "We will not treat this spot; your GP will keep an eye on it with you."


def alices_photo(data_dir: Path, alice: User, probabilities: dict[str, float]) -> Analysis:
    """A finished analysis of alice's photo (a real file), flagged for review."""
    path = data_dir / NEVUS
    with Image.open(path) as im:
        width, height = im.size
    image = LesionImageFactory.create(case__patient=alice, width=width, height=height)
    store_photo(image, path.read_bytes())
    return FlaggedAnalysisFactory.create(image=image, probabilities=probabilities)


def test_dana_must_override_with_a_reason_to_sign_off_a_melanoma_as_self_care(
    browser: Browser, data_dir: Path, alice: User, dana: User
) -> None:
    analysis = alices_photo(data_dir, alice, {"mel": 0.8, "nv": 0.1})
    services.review_claim(analysis=analysis, user=dana)
    browser.log_in("dana")
    browser.visit(f"/review/analyses/{analysis.pk}/")

    form = "#review-form"
    recommendation = Select(browser.find(f"{form} select[name=review-recommendation]"))
    assert recommendation.first_selected_option.text == "— choose —"

    browser.find(f"{form} input[name=review-verdict][value=agree]").click()
    recommendation.select_by_visible_text("Self-care; no visit needed")
    browser.driver.find_element(By.ID, "sign-off-button").click()
    errors = browser.wait_for_text(form, "Melanoma is malignant: choose another recommendation")
    assert "An urgent conclusion needs a message to the patient" in errors.text
    assert not Review.objects.exists()

    # The form comes back as dana filled it in; she confirms, says why, and tells alice.
    recommendation = Select(browser.find(f"{form} select[name=review-recommendation]"))
    assert recommendation.first_selected_option.text == "Self-care; no visit needed"
    browser.find(f"{form} input[name=review-self_care_override]").click()
    browser.find(f"{form} textarea[name=review-override_reason]").send_keys(REASON)
    browser.find(f"{form} textarea[name=review-message_to_patient]").send_keys(MESSAGE)
    browser.screenshot("dermatologist-self-care-override")
    browser.driver.find_element(By.ID, "sign-off-button").click()
    browser.wait_for_text("main", "Signed off. The patient has been notified.")

    review = Review.objects.get()
    assert (review.self_care_override, review.override_reason) == (True, REASON)
    browser.visit(f"/cases/{analysis.image.case_id}/timeline/")
    event = browser.wait_for_text("[data-kind=self_care_override]", REASON)
    assert "Self-care despite the diagnosis (override)" in event.text

    browser.log_in("alice")
    browser.visit(f"/cases/{analysis.image.case_id}/timeline/")
    browser.wait_for_text("[data-testid=timeline]", "A dermatologist reviewed your case.")
    assert REASON not in browser.text() and "override" not in browser.text()


def test_alice_reads_that_an_unflagged_result_is_an_estimate_and_when_to_see_a_doctor(
    browser: Browser, data_dir: Path, alice: User
) -> None:
    analysis = alices_photo(data_dir, alice, {"nv": 0.99})
    analysis.flags.all().delete()  # the model raised no reason for a review
    review_rank_sync(analysis)
    browser.log_in("alice")
    browser.visit(f"/cases/{analysis.image.case_id}/")

    browser.wait_for_text("#result-heading", "Automated estimate: Melanocytic naevus (mole)")
    result = browser.text("#analysis")
    assert "This is not a diagnosis." in result
    assert "No dermatologist will look at this photo" in browser.text("#next-step")
    assert "That does not mean the lesion is harmless." in browser.text("#next-step")
    anyway = browser.text("#see-a-doctor-anyway")
    assert anyway.startswith("When to see a doctor anyway")
    assert "See a doctor within two weeks if a mole changes in size, shape or colour" in anyway
    assert "No automatic reason" not in result
    assert not browser.driver.find_elements(By.CSS_SELECTOR, "#guidance .sev-benign")
    browser.screenshot("patient-unflagged-estimate")
