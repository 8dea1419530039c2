from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image, ImageCms
from rest_framework.test import APIClient

from diagnosis.models import Analysis, AnalysisStatus, Case, LesionImage
from ml_worker.tasks import analyze_image
from patients.models import User
from tests.crafted_images import cut_keeping_end_marker, small_jpeg, with_declared_size
from tests.diagnosis.conftest import (
    NEVUS,
    OTHER_LESION,
    jpeg,
    photo_file,
    stored_files,
    upload,
)
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _post(api_client: APIClient, case: Case, data: bytes, name: str = "photo.jpg") -> Any:
    api_client.force_authenticate(case.patient)
    return api_client.post(
        f"/api/v1/cases/{case.pk}/images/", {"image": photo_file(data, name)}, format="multipart"
    )


def _gif(data_dir: Path) -> bytes:
    buf = io.BytesIO()
    with Image.open(data_dir / NEVUS) as im:
        im.save(buf, format="GIF")
    return buf.getvalue()


def _bomb() -> bytes:
    # 64 MP of 1-bit pixels compresses to a few kB; decoding it would take gigabytes.
    buf = io.BytesIO()
    Image.new("1", (8_000, 8_000)).save(buf, format="PNG")
    assert len(buf.getvalue()) < 100_000
    return buf.getvalue()


def _pillow_bomb() -> bytes:
    # Over Pillow's own limit (89 MP): Image.open refuses it in Pillow's words.
    buf = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buf, format="PNG")
    return buf.getvalue()


BAD_UPLOADS = {
    "empty": (lambda d: b"", "empty"),
    "text_named_jpg": (lambda d: b"just some text, not a photo", "not a JPEG, PNG or WebP"),
    "gif": (_gif, "not a JPEG, PNG or WebP"),
    "truncated_jpeg": (lambda d: (d / NEVUS).read_bytes()[:1800], "damaged or incomplete"),
    "bomb": (lambda d: _bomb(), "too many pixels"),
    "pillow_bomb": (lambda d: _pillow_bomb(), "too many pixels"),
    # 1 kB declaring 6000x6000: refused from its header, before any decoding.
    "lying_jpeg_header": (lambda d: with_declared_size(small_jpeg(64, 48), 6000, 6000),
                          "damaged or incomplete"),
    # Big enough for its header, but the data ends early: libjpeg's grey fill gives it away.
    "lying_noise_jpeg": (lambda d: with_declared_size(small_jpeg(800, 600, noise=True),
                                                      3000, 3000), "damaged or incomplete"),
    "cut_jpeg_with_end_marker": (lambda d: cut_keeping_end_marker((d / NEVUS).read_bytes(),
                                                                  0.7), "damaged or incomplete"),
}


@pytest.mark.parametrize("kind", BAD_UPLOADS)
def test_a_bad_upload_gets_a_clear_400_and_nothing_is_saved(
    kind: str, api_client: APIClient, alice_case: Case, data_dir: Path
) -> None:
    make, message = BAD_UPLOADS[kind]

    response = _post(api_client, alice_case, make(data_dir))

    assert response.status_code == 400
    text = response.json()["image"][0]
    assert message in text
    # Our words only, never Pillow's ("... could be decompression bomb DOS attack.").
    assert "bomb" not in text and "DOS" not in text and "pixels, could" not in text
    assert LesionImage.objects.count() == 0
    assert Analysis.objects.count() == 0
    assert stored_files(settings.MEDIA_ROOT) == []


def test_a_photo_over_the_size_limit_is_refused(
    api_client: APIClient, alice_case: Case, lesion_jpeg: bytes, settings: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = len(lesion_jpeg) - 1

    response = _post(api_client, alice_case, lesion_jpeg)

    assert response.status_code == 400
    assert "limit is" in response.json()["image"][0]
    assert LesionImage.objects.count() == 0
    assert stored_files(settings.MEDIA_ROOT) == []


def test_a_body_far_over_the_limit_is_refused_before_it_is_parsed(
    api_client: APIClient, alice_case: Case, lesion_jpeg: bytes, settings: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = 100
    api_client.force_authenticate(alice_case.patient)

    response = api_client.post(
        f"/api/v1/cases/{alice_case.pk}/images/",
        {"image": photo_file(lesion_jpeg * 40)},
        format="multipart",
    )

    assert response.status_code == 400
    assert "larger than the" in response.json()["image"][0]  # not the service's wording


def test_a_missing_file_field_is_a_field_error(api_client: APIClient, alice_case: Case) -> None:
    api_client.force_authenticate(alice_case.patient)

    response = api_client.post(f"/api/v1/cases/{alice_case.pk}/images/", {}, format="multipart")

    assert response.status_code == 400
    assert list(response.json()) == ["image"]


def test_an_upload_is_stored_under_a_random_name_with_its_facts(
    api_client: APIClient, alice_case: Case, lesion_jpeg: bytes
) -> None:
    response = _post(api_client, alice_case, lesion_jpeg, name="alice-back-mole.jpg")

    assert response.status_code == 202
    body = response.json()
    assert body["duplicate"] is False
    assert body["analysis"]["status"] == "queued"
    image = LesionImage.objects.get()
    name, thumbnail = str(image.file.name), str(image.thumbnail.name)
    assert "alice" not in name and name.startswith("lesions/")
    assert image.sha256 == hashlib.sha256(lesion_jpeg).hexdigest()
    assert (image.width, image.height, image.original_size) == (200, 150, len(lesion_jpeg))
    assert image.original_format == "JPEG"
    assert default_storage.exists(name)
    assert default_storage.exists(thumbnail)
    assert image.analyses.get().pk == body["analysis"]["id"]


def test_gps_and_camera_metadata_are_gone_from_the_stored_photo(
    alice_case: Case, data_dir: Path
) -> None:
    with Image.open(data_dir / NEVUS) as im:
        exif = Image.Exif()
        exif[0x010F] = "SecretCam"  # Make
        exif[0x0110] = "Model X"  # Model
        gps = exif.get_ifd(0x8825)
        gps.update({1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)})
        icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        original = jpeg(im.convert("RGB"), exif=exif.tobytes(), icc_profile=icc)
    with Image.open(io.BytesIO(original)) as check:  # the test photo really carries them
        assert check.getexif().get_ifd(0x8825)[1] == "N"
        assert check.info.get("icc_profile")

    outcome = upload(alice_case, original)

    with default_storage.open(str(outcome.image.file.name)) as f:
        stored = f.read()
    for marker in (b"Exif", b"SecretCam", b"Model X", b"ICC_PROFILE"):
        assert marker not in stored
    with Image.open(io.BytesIO(stored)) as im:
        assert not im.getexif()
        assert "icc_profile" not in im.info and "exif" not in im.info
    assert outcome.image.sha256 == hashlib.sha256(original).hexdigest()


def test_the_exif_orientation_is_applied_before_storing(alice_case: Case, data_dir: Path) -> None:
    with Image.open(data_dir / NEVUS) as im:
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90° clockwise to display
        original = jpeg(im.convert("RGB"), exif=exif.tobytes())

    outcome = upload(alice_case, original)

    assert (outcome.image.width, outcome.image.height) == (150, 200)
    with default_storage.open(str(outcome.image.file.name)) as f, Image.open(f) as stored:
        assert stored.size == (150, 200)


def test_a_png_with_transparency_is_stored_as_a_jpeg(alice_case: Case, data_dir: Path) -> None:
    with Image.open(data_dir / NEVUS) as im:
        rgba = im.convert("RGBA")
    buf = io.BytesIO()
    rgba.save(buf, format="PNG")

    outcome = upload(alice_case, buf.getvalue())

    assert outcome.image.original_format == "PNG"
    with default_storage.open(str(outcome.image.file.name)) as f, Image.open(f) as stored:
        assert stored.format == "JPEG" and stored.mode == "RGB"


def test_the_same_photo_twice_returns_the_existing_analysis(
    api_client: APIClient, alice_case: Case, lesion_jpeg: bytes
) -> None:
    first = _post(api_client, alice_case, lesion_jpeg)

    second = _post(api_client, alice_case, lesion_jpeg, name="again.jpg")

    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert second.json()["analysis"]["id"] == first.json()["analysis"]["id"]
    assert LesionImage.objects.count() == 1 and Analysis.objects.count() == 1
    assert len(stored_files(settings.MEDIA_ROOT)) == 2  # the photo and its thumbnail


def test_the_same_photo_in_another_case_is_not_a_duplicate(
    alice: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    upload(alice_case, lesion_jpeg)

    outcome = upload(CaseFactory.create(patient=alice), lesion_jpeg)

    assert outcome.duplicate is False
    assert LesionImage.objects.count() == 2


def test_sending_again_a_photo_whose_analysis_failed_analyses_it_again(
    alice_case: Case, lesion_jpeg: bytes
) -> None:
    first = upload(alice_case, lesion_jpeg)
    Analysis.objects.filter(pk=first.analysis.pk).update(
        status=AnalysisStatus.FAILED, finished_at=first.analysis.queued_at
    )

    again = upload(alice_case, lesion_jpeg)

    assert again.duplicate is True
    assert again.analysis.pk != first.analysis.pk
    assert again.analysis.status == AnalysisStatus.QUEUED


def test_uploading_queues_the_analysis_task_after_commit(
    alice_case: Case, data_dir: Path, django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = Mock()
    monkeypatch.setattr(analyze_image, "apply_async", sent)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = upload(alice_case, (data_dir / OTHER_LESION).read_bytes())

    sent.assert_called_once_with((outcome.analysis.pk,), queue=settings.ANALYSIS_QUEUE)


def test_a_failed_database_write_leaves_no_files_behind(
    alice_case: Case, lesion_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Analysis.objects, "create", Mock(side_effect=RuntimeError("db")))

    with pytest.raises(RuntimeError):
        upload(alice_case, lesion_jpeg)

    assert LesionImage.objects.count() == 0
    assert stored_files(settings.MEDIA_ROOT) == []
