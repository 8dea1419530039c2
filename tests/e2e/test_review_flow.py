"""The product in a real browser: alice's upload, dana's review, and what alice then sees.

Runs headless Chromium against the live server (see conftest.py). The photo is a real
melanoma from the shared HAM10000 data that the shipped model calls melanoma. Selectors on the
dermatologist's pages are the ones listed at the top of review/views.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from diagnosis.models import Analysis, Case
from diagnosis.templatetags.diagnosis_tags import percent
from ml_worker.inference import analyze
from patients.models import User
from review.models import Annotation, Review
from tests.e2e.conftest import Browser

pytestmark = [
    pytest.mark.e2e,
    # The live server needs committed rows; serialized_rollback puts the knowledge base
    # (seeded by a data migration) back after the flush, for the tests that run later.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MELANOMA = "ham10000/images/ISIC_0030798.jpg"
DANAS_MESSAGE = (
    "This looks like a seborrhoeic keratosis, a harmless growth, not a melanoma. "
    "Please show it to your GP within four weeks so they can confirm it."
)


@pytest.fixture
def melanoma_photo(data_dir: Path) -> Path:
    path = data_dir / MELANOMA
    if not path.is_file():
        pytest.fail(f"shared data not found: {path} (set SKIN_DATA_DIR)")
    # The tests below read the shipped model's answer for this photo off the pages (melanoma,
    # urgent, with the stored probability). Say so plainly when a new model answers otherwise.
    result = analyze(path.read_bytes())
    c = result.classification
    if result.status != "ok" or c is None or c.predicted != "mel":
        pytest.fail(
            f"model {result.model_version} no longer calls {MELANOMA} melanoma "
            f"({result.status}, {c and c.predicted} {c and round(c.confidence, 2)}): set "
            "MELANOMA to another photo it does call melanoma"
        )
    return path


def open_case_and_upload(browser: Browser, photo: Path) -> Case:
    """From the home page: the case form, then the photo through the case page's form."""
    browser.visit("/")
    browser.click_link("Check a mole or mark")
    Select(browser.find("select[name=body_site]")).select_by_visible_text("Back")
    Select(browser.find("select[name=duration]")).select_by_visible_text("1 to 6 months")
    browser.find("input[name=changed]").click()
    browser.click_button("Open the case")
    browser.wait_for_text("main", "Case opened. Now add a photo of the lesion.")

    browser.find("input[type=file][name=image]").send_keys(str(photo))
    browser.click_button("Upload photo")
    # The page's script posts the photo, follows the redirect and polls until it is analysed.
    browser.wait_for_text("#result-heading", "Automated estimate")
    return Case.objects.get()


def test_alice_uploads_a_photo_and_sees_the_models_result(
    browser: Browser, alice: User, melanoma_photo: Path
) -> None:
    browser.log_in("alice")

    case = open_case_and_upload(browser, melanoma_photo)

    assert browser.driver.current_url.endswith(f"/cases/{case.pk}/")
    result = browser.text("#analysis")
    assert "Automated estimate: Melanoma" in result
    assert "This is not a diagnosis." in result
    assert "A dermatologist will review this photo as a priority" in result
    assert "When to see a doctor anyway" in result
    assert "About melanoma" in browser.text()
    browser.screenshot("patient-result")


def assert_content_lines_up_with_the_header(browser: Browser) -> None:
    """The page's content sits in the header's container: same left edge, same width."""
    nav, main = browser.find("header nav").rect, browser.find("main").rect
    assert abs(nav["x"] - main["x"]) < 1 and abs(nav["width"] - main["width"]) < 1, (nav, main)


def draw_rectangle(browser: Browser, *, width: int, height: int) -> tuple[float, float]:
    """Drag out a rectangle centred on the annotation canvas, as a mouse would.

    Returns the canvas's size on screen (CSS pixels), which may differ from the photo's.
    """
    canvas = browser.find("canvas#annotation-canvas")
    # WebDriver offsets are from the centre of the element's visible part: show all of it.
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    (
        ActionChains(browser.driver)
        .move_to_element_with_offset(canvas, -width // 2, -height // 2)  # from its centre
        .click_and_hold()
        .move_by_offset(width // 2, height // 2)
        .move_by_offset(width // 2, height // 2)
        .release()
        .perform()
    )
    return canvas.rect["width"], canvas.rect["height"]


def review_and_sign_off(browser: Browser, analysis: Analysis) -> tuple[float, float]:
    """Dana's part: the queue, the claim, an annotation, a correction and the sign-off.

    Returns the annotation canvas's size on screen.
    """
    top = analysis.top3[0]
    assert top["code"] == "mel"
    shown_percent = f"{percent(top['probability'])}%"  # as the pages round it
    browser.click_link("Review queue")  # in the dermatologist's navigation bar
    row = browser.find(f"tr[data-testid=queue-row][data-analysis-id='{analysis.pk}']")
    assert "Melanoma" in row.text and shown_percent in row.text
    assert browser.text("[data-testid=count-urgent]") == "1 urgent"
    row.find_element(By.CSS_SELECTOR, "[data-testid=claim-button]").click()

    browser.wait_for_text("#claim-status", "You are reviewing this case")
    assert_content_lines_up_with_the_header(browser)
    assert "Changed recently Yes" in browser.text("#patient-answers")
    assert f"Melanoma (mel) {shown_percent}" in browser.text("#model-result")

    shown = draw_rectangle(browser, width=120, height=90)
    browser.wait().until(lambda _: browser.find("#annotation-points").get_attribute("value"))
    browser.find("#annotation-label").send_keys("Stuck-on scaly plaque")
    browser.find("#annotation-comment").send_keys("Typical keratosis border")
    browser.driver.find_element(By.ID, "annotation-save").click()
    browser.wait_for_text("#annotation-list", "Stuck-on scaly plaque")
    browser.driver.refresh()  # drawn back from what the server stored
    browser.wait_for_text("#annotation-list", "Stuck-on scaly plaque (rectangle, 2 points)")

    form = "#review-form"
    browser.find(f"{form} input[name=review-verdict][value=correct]").click()
    Select(browser.find(f"{form} select[name=review-diagnosis]")).select_by_visible_text(
        "Benign keratosis (bkl)"
    )
    Select(browser.find(f"{form} select[name=review-recommendation]")).select_by_visible_text(
        "See a doctor in person within N days"
    )
    browser.find(f"{form} input[name=review-follow_up_days]").send_keys("28")
    browser.find(f"{form} textarea[name=review-message_to_patient]").send_keys(DANAS_MESSAGE)
    browser.screenshot("dermatologist-review")
    browser.driver.find_element(By.ID, "sign-off-button").click()
    browser.wait_for_text("main", "Signed off. The patient has been notified.")
    return shown


def test_dana_reviews_alices_flagged_upload_and_alice_sees_her_conclusion_first(
    browser: Browser, alice: User, dana: User, melanoma_photo: Path
) -> None:
    browser.log_in("alice")
    case = open_case_and_upload(browser, melanoma_photo)
    analysis = Analysis.objects.get(image__case=case)

    browser.log_in("dana")
    shown_width, shown_height = review_and_sign_off(browser, analysis)

    # The rectangle was stored in the photo's own pixels, whatever size the canvas was shown at:
    # 120x90 screen pixels around the centre, scaled to the photo.
    annotation = Annotation.objects.get()
    image = analysis.image
    assert (annotation.shape, annotation.label) == ("rectangle", "Stuck-on scaly plaque")
    sx, sy = image.width / shown_width, image.height / shown_height
    expected = [
        [image.width / 2 - 60 * sx, image.height / 2 - 45 * sy],
        [image.width / 2 + 60 * sx, image.height / 2 + 45 * sy],
    ]
    corners = sorted(annotation.points)
    for (x, y), (ex, ey) in zip(corners, expected, strict=True):
        assert abs(x - ex) <= 2 * sx + 1 and abs(y - ey) <= 2 * sy + 1, (corners, expected)
    review = Review.objects.get()
    assert (review.reviewer, review.verdict) == (dana, "correct")

    browser.log_in("alice")
    browser.click_link("My cases")
    # The case, under the title it got by default: its body site and the day it was opened.
    assert case.title.startswith("Back, ")
    browser.click_link(case.title)
    conclusion = browser.wait_for_text("#clinician-conclusion", "reviewed your photo on")
    assert browser.text("#conclusion-diagnosis") == "benign keratosis"  # inside a sentence
    assert "within 28 days" in browser.text("#conclusion-recommendation")
    assert browser.text("#conclusion-message") == DANAS_MESSAGE
    # The guidance follows dana's diagnosis; the model's melanoma advice is nowhere in sight.
    assert "About benign keratosis" in browser.text("#clinician-guidance")
    for text in ("About melanoma", "Urgent (within two weeks)", "Automated estimate: Melanoma"):
        assert text not in browser.text(), text
    model_result = browser.find("#analysis")
    assert "Automated pre-assessment (superseded by your dermatologist's review)" in (
        model_result.text
    )
    assert conclusion.location["y"] < model_result.location["y"], "conclusion not above"
    assert_content_lines_up_with_the_header(browser)
    browser.screenshot("patient-conclusion")

    # Opened on request, the model's result is there for reference, still without its urgency.
    browser.find("#model-pre-assessment summary").click()
    browser.wait_for_text("#analysis", "Automated estimate: Melanoma")
    assert "Urgent (within two weeks)" not in browser.text()
    browser.screenshot("patient-conclusion-model-opened")
