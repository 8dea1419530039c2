"""Dana's start page in a real browser: her work, not the patients' advice.

Selectors are the ones listed at the top of review/views.py.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from knowledge.models import Urgency
from patients.models import User
from review import services
from tests.e2e.conftest import Browser
from tests.factories import FlaggedAnalysisFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_dana_opens_her_home_and_goes_from_a_claimed_case_to_its_review(
    browser: Browser, dana: User
) -> None:
    mine = FlaggedAnalysisFactory.create(priority=Urgency.URGENT)
    FlaggedAnalysisFactory.create(priority=Urgency.URGENT)
    FlaggedAnalysisFactory.create(priority=Urgency.ROUTINE)
    services.review_claim(analysis=mine, user=dana)
    browser.log_in("dana")

    browser.click_link("Dermatologist home")

    browser.wait_for_text("[data-testid=home-count-urgent]", "2 urgent")
    assert browser.text("[data-testid=home-count-soon]") == "0 soon"
    assert browser.text("[data-testid=home-count-routine]") == "1 routine"
    assert "The oldest urgent case has waited" in browser.text("#home-oldest-urgent")
    claimed = browser.driver.find_elements(
        By.CSS_SELECTOR, "#home-claimed [data-testid=claimed-case]"
    )
    assert [li.get_attribute("data-analysis-id") for li in claimed] == [str(mine.pk)]
    assert "If you are worried about" not in browser.text("footer")

    claimed[0].find_element(By.TAG_NAME, "a").click()
    browser.wait_for_text("#claim-status", "You are reviewing this case")
    assert browser.driver.current_url.endswith(f"/review/analyses/{mine.pk}/")

    browser.visit("/staff/")
    browser.find("[data-testid=home-count-urgent]").click()
    browser.find("table#review-queue")
    assert browser.driver.current_url.endswith("/review/?priority=urgent")
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "tr[data-testid=queue-row]")
    assert len(rows) == 2
