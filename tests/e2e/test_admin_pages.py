"""Admin pages in a real browser: the knowledge base's change form fits a few screens.

Each list item (a symptom, a precaution, ...) is a sentence or two. In the admin's default
10-row textareas, with the patient-page preview unfolded, the melanoma entry's change form
(form#disease_form) measured 6,812 px tall in a 1280 px wide window; now about 2,600 px.
"""

from __future__ import annotations

import pytest

from knowledge.models import Disease
from patients.models import User
from tests.e2e.conftest import Browser

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

HEIGHT_BEFORE_PX = 6812  # measured with this test before knowledge/admin.py's widgets
MAX_HEIGHT_PX = HEIGHT_BEFORE_PX // 2


def test_the_disease_change_form_is_compact_at_1280_px(browser: Browser, admin: User) -> None:
    mel = Disease.objects.get(code="mel")
    browser.driver.set_window_size(1280, 900)
    browser.log_in("admin")

    browser.visit(f"/admin/knowledge/disease/{mel.pk}/change/")
    browser.find("#disease_form")
    width = browser.driver.execute_script("return document.documentElement.clientWidth")
    height = browser.driver.execute_script(
        "return Math.round(document.getElementById('disease_form').getBoundingClientRect().height)"
    )
    print(f"\ndisease change form at {width} px wide: {height} px tall")

    assert width <= 1280
    assert browser.find("textarea[name='items-0-text']").get_attribute("rows") == "2"
    assert height < MAX_HEIGHT_PX, f"{height} px (was {HEIGHT_BEFORE_PX} px)"
