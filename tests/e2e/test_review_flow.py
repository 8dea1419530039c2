"""The product in a real browser: a patient's upload, as alice would do it.

Runs headless Chromium against the live server (see conftest.py). The photo is a real
melanoma from the shared HAM10000 data that the shipped model calls melanoma.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from diagnosis.models import Case
from ml_worker.training.data import data_dir
from patients.models import User
from tests.e2e.conftest import Browser

pytestmark = [
    pytest.mark.e2e,
    # The live server needs committed rows; serialized_rollback puts the knowledge base
    # (seeded by a data migration) back after the flush, for the tests that run later.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MELANOMA = "ham10000/images/ISIC_0030798.jpg"


@pytest.fixture
def melanoma_photo() -> Path:
    path = data_dir() / MELANOMA
    if not path.is_file():
        pytest.fail(f"shared data not found: {path} (set SKIN_DATA_DIR)")
    return path


def open_case_and_upload(browser: Browser, photo: Path) -> Case:
    """From the home page: the case form, then the photo through the case page's form."""
    browser.visit("/")
    browser.driver.find_element(By.LINK_TEXT, "Check a mole or mark").click()
    Select(browser.find("select[name=body_site]")).select_by_visible_text("Back")
    Select(browser.find("select[name=duration]")).select_by_visible_text("1 to 6 months")
    browser.find("input[name=changed]").click()
    browser.click_button("Open the case")
    browser.wait_for_text("main", "Case opened. Now add a photo of the lesion.")

    browser.find("input[type=file][name=image]").send_keys(str(photo))
    browser.click_button("Upload photo")
    # The page's script posts the photo, follows the redirect and polls until it is analysed.
    browser.wait_for_text("#result-heading", "Most likely")
    return Case.objects.get()


def test_alice_uploads_a_photo_and_sees_the_models_result(
    browser: Browser, alice: User, melanoma_photo: Path
) -> None:
    browser.log_in("alice")

    case = open_case_and_upload(browser, melanoma_photo)

    assert browser.driver.current_url.endswith(f"/cases/{case.pk}/")
    result = browser.text("#analysis")
    assert "Most likely: Melanoma" in result
    assert "This is not a diagnosis." in result
    assert "A dermatologist will review this as a priority." in result
    assert "About melanoma" in browser.text()
    browser.screenshot("patient-result")
