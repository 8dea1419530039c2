"""alice takes the photo on her phone: a preview before sending, and a 12 MP photo made smaller
in the browser (diagnosis/static/diagnosis/photo.js) so it does not take a minute to upload.

The photos are a real lesion photo scaled up with Pillow, written to a temporary folder and
chosen through the page's file input, as a person would.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image
from selenium.webdriver.common.by import By

from diagnosis.models import LesionImage
from patients.models import User
from tests.diagnosis.conftest import NEVUS
from tests.e2e.conftest import Browser
from tests.factories import CaseFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EXIF_ORIENTATION = 0x0112
ROTATED_90_CW = 6  # the camera was held sideways: turn the pixels 90° clockwise to view them


def phone_photo(
    data_dir: Path,
    folder: Path,
    size: tuple[int, int],
    *,
    orientation: int | None = None,
    name: str = "p.jpg",
) -> Path:
    """A JPEG of the nevus photo at `size`, with a red block at the top left of its pixels."""
    with Image.open(data_dir / NEVUS) as im:
        photo = im.convert("RGB").resize(size, Image.Resampling.BICUBIC)
    photo.paste((255, 0, 0), (0, 0, size[0] // 4, size[1] // 4))
    exif = Image.Exif()
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    path = folder / name
    photo.save(path, format="JPEG", quality=90, exif=exif.tobytes())
    return path


def choose_and_upload(browser: Browser, alice: User, photo: Path) -> LesionImage:
    case = CaseFactory.create(patient=alice)
    browser.log_in("alice")
    browser.visit(f"/cases/{case.pk}/")
    browser.find("input[type=file][name=image]").send_keys(str(photo))
    preview = browser.find("#upload-preview img")
    browser.wait().until(lambda d: d.execute_script("return arguments[0].naturalWidth", preview))
    browser.wait_for_text("#upload-preview figcaption", "px")
    browser.click_button("Upload photo")
    browser.wait_for_text("main", "All photos of this lesion")  # the case page, reloaded
    return LesionImage.objects.get(case=case)


def is_red(im: Image.Image, xy: tuple[int, int]) -> bool:
    r, g, b = im.convert("RGB").getpixel(xy)  # type: ignore[misc]
    return bool(r > 200 and g < 60 and b < 60)


def stored_size(image: LesionImage) -> tuple[int, int]:
    with image.file.open("rb") as f, Image.open(f) as im:
        return im.size


def test_alices_large_photo_is_previewed_and_arrives_2048_px_on_its_long_side(
    browser: Browser, alice: User, tmp_path: Path, data_dir: Path
) -> None:
    photo = phone_photo(data_dir, tmp_path, (4000, 3000))

    image = choose_and_upload(browser, alice, photo)

    assert browser.driver.current_url.endswith(f"/cases/{image.case_id}/")
    assert (image.width, image.height) == (2048, 1536)
    assert stored_size(image) == (2048, 1536)
    # What the server received was the browser's smaller copy, not the file alice chose.
    assert image.original_format == "JPEG"
    assert image.original_size < photo.stat().st_size
    assert image.sha256 != hashlib.sha256(photo.read_bytes()).hexdigest()


def test_the_preview_says_how_the_photo_will_be_sent(
    browser: Browser, alice: User, tmp_path: Path, data_dir: Path
) -> None:
    case = CaseFactory.create(patient=alice)
    browser.log_in("alice")
    browser.visit(f"/cases/{case.pk}/")
    field = browser.find("input[type=file][name=image]")
    assert field.get_attribute("capture") == "environment"
    assert field.get_attribute("accept") == "image/*"
    form = browser.find("#upload-form")
    assert not form.find_elements(By.CSS_SELECTOR, "#upload-preview img[src]")

    field.send_keys(str(phone_photo(data_dir, tmp_path, (4000, 3000))))
    caption = browser.wait_for_text("#upload-preview figcaption", "sent as 2048 × 1536 px")
    assert caption.text.startswith("4000 × 3000 px")
    preview = browser.find("#upload-preview img")
    assert (preview.get_attribute("src") or "").startswith("blob:")
    # The preview fits the phone's screen rather than showing 4000 px.
    assert 0 < preview.rect["width"] <= browser.find("#upload-form").rect["width"]
    browser.screenshot("patient-photo-preview")


def test_a_sideways_phone_photo_arrives_upright(
    browser: Browser, alice: User, tmp_path: Path, data_dir: Path
) -> None:
    photo = phone_photo(data_dir, tmp_path, (4000, 3000), orientation=ROTATED_90_CW)

    image = choose_and_upload(browser, alice, photo)

    assert (image.width, image.height) == (1536, 2048)
    # The red block, at the top left of the sideways pixels, is at the top right once upright.
    with image.file.open("rb") as f, Image.open(f) as stored:
        pixels = stored.convert("RGB")
    assert is_red(pixels, (1536 - 50, 50))
    assert not is_red(pixels, (50, 50))
    assert not is_red(pixels, (1536 - 50, 2048 - 50))


def test_a_photo_within_2048_px_is_sent_as_it_is(
    browser: Browser, alice: User, tmp_path: Path, data_dir: Path
) -> None:
    photo = phone_photo(data_dir, tmp_path, (2048, 1536))

    image = choose_and_upload(browser, alice, photo)

    assert image.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert image.original_size == photo.stat().st_size
    assert (image.width, image.height) == (2048, 1536)


def test_a_photo_the_browser_cannot_read_is_sent_as_it_is_for_the_server_to_judge(
    browser: Browser, alice: User, tmp_path: Path
) -> None:
    # As a HEIC photo is to most browsers: no preview, and the server's own answer.
    photo = tmp_path / "IMG_0001.heic"
    photo.write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(4000))
    case = CaseFactory.create(patient=alice)
    browser.log_in("alice")
    browser.visit(f"/cases/{case.pk}/")

    browser.find("input[type=file][name=image]").send_keys(str(photo))
    browser.wait_for_text("#upload-preview figcaption", "No preview")
    browser.click_button("Upload photo")

    errors = browser.wait_for_text("#upload-errors", "JPEG")
    assert errors.text
    assert not LesionImage.objects.exists()
