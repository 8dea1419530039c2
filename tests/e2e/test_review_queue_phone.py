"""dana opens the review queue on her phone: the table scrolls sideways in its own box, and the
page itself never scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from patients.models import User
from tests.diagnosis.conftest import NEVUS, store_photo
from tests.e2e.conftest import Browser
from tests.factories import FlaggedAnalysisFactory, LesionImageFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = (375, 800)  # CSS pixels, an iPhone SE's screen
DESKTOP = (1280, 900)  # the size tests/e2e/conftest.py starts the browser at


@pytest.fixture
def phone(browser: Browser) -> Iterator[Browser]:
    browser.driver.set_window_size(*PHONE)
    try:
        yield browser
    finally:
        browser.driver.set_window_size(*DESKTOP)


def overflow(browser: Browser, css: str) -> dict[str, int]:
    sizes: dict[str, int] = browser.driver.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "return {scroll: e.scrollWidth, client: e.clientWidth,"
        " page: document.documentElement.scrollWidth, window: window.innerWidth};",
        css,
    )
    return sizes


def test_the_queue_scrolls_sideways_inside_its_box_on_a_phone(
    phone: Browser, data_dir: Path, alice: User, dana: User
) -> None:
    photo = (data_dir / NEVUS).read_bytes()
    for _ in range(3):
        image = LesionImageFactory.create(case__patient=alice)
        store_photo(image, photo)
        FlaggedAnalysisFactory.create(image=image, probabilities={"mel": 0.7, "nv": 0.2})
    phone.log_in("dana")
    phone.visit("/review/")
    rows = phone.driver.find_elements(By.CSS_SELECTOR, "[data-testid=queue-row]")
    assert len(rows) == 3

    sizes = overflow(phone, "#review-queue-scroll")
    assert sizes["window"] == PHONE[0], sizes
    assert sizes["page"] <= sizes["window"], sizes  # the page itself: no sideways scroll
    assert sizes["scroll"] > sizes["client"], sizes  # the table: scrolls in its box

    # The last column (Claim) is reachable by scrolling the box, and then in view.
    box = phone.find("#review-queue-scroll")
    phone.driver.execute_script("arguments[0].scrollLeft = arguments[0].scrollWidth", box)
    claim = phone.find("[data-testid=claim-button]")
    right = claim.rect["x"] + claim.rect["width"]
    assert 0 <= claim.rect["x"] and right <= PHONE[0], claim.rect
    phone.screenshot("dermatologist-queue-on-a-phone")
