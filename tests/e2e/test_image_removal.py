"""alice sent a photo of her coffee cup by mistake and takes it back from the case page."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from audit.models import TimelineEvent, TimelineKind
from diagnosis.models import LesionImage
from patients.models import User
from tests.diagnosis.conftest import NEVUS, store_photo
from tests.e2e.conftest import Browser
from tests.factories import FlaggedAnalysisFactory, LesionImageFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_alice_removes_a_photo_from_the_case_page_after_confirming(
    browser: Browser, data_dir: Path, alice: User
) -> None:
    image = LesionImageFactory.create(case__patient=alice)
    store_photo(image, (data_dir / NEVUS).read_bytes())
    FlaggedAnalysisFactory.create(image=image)
    browser.log_in("alice")
    browser.visit(f"/cases/{image.case_id}/")

    # Changing her mind at the prompt keeps the photo.
    browser.find("[data-testid=remove-photo]").click()
    alert = browser.wait().until(ec.alert_is_present())
    assert "cannot be undone" in alert.text
    alert.dismiss()
    assert LesionImage.objects.get(pk=image.pk).removed_at is None

    browser.find("[data-testid=remove-photo]").click()
    browser.wait().until(ec.alert_is_present()).accept()

    browser.wait_for_text("main", "The photo was removed.")
    assert "No photo yet" in browser.text()
    assert not browser.driver.find_elements(By.CSS_SELECTOR, "[data-testid=remove-photo]")
    assert LesionImage.objects.get(pk=image.pk).removed_at is not None
    assert TimelineEvent.objects.filter(
        case=image.case_id, kind=TimelineKind.IMAGE_REMOVED
    ).exists()
