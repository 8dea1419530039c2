"""The annotation editor in a real browser: a polygon by clicks, zoom, reload, delete (after
a confirmation), and a zoom label that tells the photo's real scale.

The full patient → dermatologist → patient flow (with a rectangle) is test_review_flow.py;
this one drives the editor's other tools on a photo already in the queue.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from diagnosis.models import Analysis
from patients.models import User
from review import services
from review.models import Annotation
from tests.diagnosis.conftest import NEVUS, store_photo
from tests.e2e.conftest import Browser
from tests.factories import AnnotationFactory, FlaggedAnalysisFactory, LesionImageFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def claimed(data_dir: Path, dana: User) -> Analysis:
    """A flagged photo (with its real file) that dana has claimed."""
    path = data_dir / NEVUS
    with Image.open(path) as im:
        width, height = im.size
    image = LesionImageFactory.create(width=width, height=height)
    store_photo(image, path.read_bytes())
    analysis = FlaggedAnalysisFactory.create(image=image)
    return services.review_claim(analysis=analysis, user=dana)


OFFSETS = [(-40, -30), (40, -30), (0, 40)]  # screen pixels from the canvas's centre

# Counts the canvas's opaque white pixels (label text), dark ones (label box, outlines) and
# yellow ones (the first annotation's bright line). The canvas holds only the drawing.
COUNT_PIXELS = """
const canvas = document.getElementById("annotation-canvas");
const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
const counts = {white: 0, dark: 0, yellow: 0};
for (let i = 0; i < d.length; i += 4) {
  const [r, g, b, a] = [d[i], d[i + 1], d[i + 2], d[i + 3]];
  if (a > 200 && r > 220 && g > 220 && b > 220) counts.white++;
  else if (a > 150 && r < 40 && g < 40 && b < 40) counts.dark++;
  else if (a > 200 && r > 220 && g > 180 && b < 60) counts.yellow++;
}
return counts;
"""


def test_dana_draws_a_polygon_zooms_and_deletes_it(browser: Browser, claimed: Analysis) -> None:
    browser.log_in("dana")
    browser.visit(f"/review/analyses/{claimed.pk}/")
    canvas = browser.find("canvas#annotation-canvas")
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    browser.find("#tool-polygon").click()
    for dx, dy in OFFSETS:
        ActionChains(browser.driver).move_to_element_with_offset(canvas, dx, dy).click().perform()
    browser.find("#polygon-finish").click()
    browser.find("#annotation-label").send_keys("pigment network")
    browser.driver.find_element(By.ID, "annotation-save").click()
    browser.wait_for_text("#annotation-list", "pigment network (polygon, 3 points)")
    shown = canvas.rect["width"]
    # Readable on any skin: a bright line over a dark outline, white text on a dark box.
    pixels = browser.driver.execute_script(COUNT_PIXELS)
    assert pixels["yellow"] > 100 and pixels["dark"] > pixels["yellow"], pixels
    assert pixels["white"] > 20, pixels

    annotation = Annotation.objects.get()
    image = claimed.image
    scale = image.width / shown
    for (x, y), (dx, dy) in zip(annotation.points, OFFSETS, strict=True):
        assert abs(x - (image.width / 2 + dx * scale)) <= 2 * scale + 1, annotation.points
        assert abs(y - (image.height / 2 + dy * scale)) <= 2 * scale + 1, annotation.points

    browser.driver.refresh()  # drawn back from what the server stored
    browser.wait_for_text("#annotation-list", "pigment network (polygon, 3 points)")
    browser.find("#zoom-in").click()
    browser.find("#zoom-in").click()
    # Twice the viewport's width, less the scroll bar that zooming brings.
    zoomed = browser.find("canvas#annotation-canvas").rect["width"]
    assert 1.9 * shown < zoomed <= 2 * shown

    browser.driver.find_element(By.CSS_SELECTOR, "[data-testid=annotation] button").click()
    browser.wait().until(ec.alert_is_present()).accept()
    browser.wait_for_text("#annotation-list", "None yet.")
    assert not Annotation.objects.exists()


def test_dana_is_asked_before_an_annotation_is_deleted_and_may_keep_it(
    browser: Browser, claimed: Analysis, dana: User
) -> None:
    AnnotationFactory.create(image=claimed.image, author=dana, label="blue-white veil")
    browser.log_in("dana")
    browser.visit(f"/review/analyses/{claimed.pk}/")
    delete = "[data-testid=annotation] button"

    browser.find(delete).click()
    alert = browser.wait().until(ec.alert_is_present())
    assert "blue-white veil" in alert.text and "cannot be undone" in alert.text
    alert.dismiss()
    assert browser.text("#annotation-list").startswith("blue-white veil")
    browser.driver.refresh()  # nothing was sent: the server still has it
    browser.wait_for_text("#annotation-list", "blue-white veil (rectangle, 2 points)")
    assert Annotation.objects.filter(label="blue-white veil").exists()

    browser.find(delete).click()
    browser.wait().until(ec.alert_is_present()).accept()
    browser.wait_for_text("#annotation-list", "None yet.")
    assert not Annotation.objects.exists()


def scale_on_screen(browser: Browser, image_width: int) -> str:
    """The photo's real scale, measured: CSS pixels on screen per pixel of the photo."""
    shown = browser.find("canvas#annotation-canvas").rect["width"]
    return f"{round(shown / image_width * 100)}%"


def test_the_zoom_label_tells_the_photos_real_scale(browser: Browser, claimed: Analysis) -> None:
    width = claimed.image.width
    browser.log_in("dana")
    browser.visit(f"/review/analyses/{claimed.pk}/")

    fitted = scale_on_screen(browser, width)
    assert fitted != "100%"  # the photo is not shown at its own size, so the label must not say so
    browser.wait_for_text("#zoom-level", fitted)
    assert browser.text("#zoom-level") == fitted

    for _ in range(4):
        browser.find("#zoom-in").click()
    zoomed = scale_on_screen(browser, width)
    assert int(zoomed[:-1]) > 2.5 * int(fitted[:-1])
    browser.wait_for_text("#zoom-level", zoomed)
    assert browser.text("#zoom-level") == zoomed

    # A narrower window shows the photo smaller at the same step: the label follows.
    browser.find("#zoom-reset").click()
    try:
        browser.driver.set_window_size(900, 900)
        browser.wait().until(lambda _: scale_on_screen(browser, width) != fitted)
        narrower = scale_on_screen(browser, width)
        browser.wait_for_text("#zoom-level", narrower)
        assert browser.text("#zoom-level") == narrower
    finally:
        browser.driver.set_window_size(1280, 900)
