"""The skin tone around the lesion: ITA and its Del Bino & Bernerd group (issue 20)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from ml_worker.inference import analyze
from ml_worker.inference.model import LoadedModel
from ml_worker.inference.skin_tone import ITA_GROUP_CODES, ita_degrees, ita_group, measure
from tests.ml_worker.conftest import HAM_IMAGES, encode, read_rgb

# Real dermoscopy with a dark dermatoscope vignette in the corners, and one without.
VIGNETTED = ("isic2017/images/ISIC_0000045.jpg", "ham10000/images/ISIC_0027850.jpg")
REAL_PHOTOS = (*VIGNETTED, HAM_IMAGES["nv"], "derm7pt/images/NEL/Nel026.jpg")


def rgb_from_lab(lab: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """CIELAB (L 0..100, a and b -128..127) to the uint8 sRGB a camera would write."""
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB)
    return np.asarray(np.clip(rgb * 255 + 0.5, 0, 255), dtype=np.uint8)


def patch(lightness: float, yellowness: float, a: float = 12.0, size=(150, 200)) -> np.ndarray:
    lab = np.empty((*size, 3), np.float32)
    lab[...] = (lightness, a, yellowness)
    return lab


# (L*, b*) -> the group its ITA falls in; the ITA of each is printed beside it.
KNOWN_SKIN = [
    (80.0, 12.0, "very_light"),  # 68.2°
    (68.0, 18.0, "light"),  # 45.0°
    (60.0, 15.0, "intermediate"),  # 33.7°
    (56.0, 18.0, "tan"),  # 18.4°
    (45.0, 22.0, "brown"),  # -12.8°
    (32.0, 18.0, "dark"),  # -45.0°
]


@pytest.mark.parametrize(("lightness", "yellowness", "group"), KNOWN_SKIN)
def test_a_patch_of_known_lab_lands_in_its_ita_group(
    lightness: float, yellowness: float, group: str
) -> None:
    tone = measure(rgb_from_lab(patch(lightness, yellowness)))

    expected = math.degrees(math.atan((lightness - 50) / yellowness))
    assert tone.ita == pytest.approx(expected, abs=1.5)
    assert tone.group == group
    assert tone.lightness == pytest.approx(lightness, abs=0.6)
    assert tone.yellowness == pytest.approx(yellowness, abs=0.6)


def test_the_six_groups_follow_del_bino_and_bernerd_bounds() -> None:
    assert ITA_GROUP_CODES == ("very_light", "light", "intermediate", "tan", "brown", "dark")
    assert [ita_group(x) for x in (56, 55, 41.1, 41, 28, 10.5, 10, -29, -30, -80)] == [
        "very_light", "light", "light", "intermediate", "tan", "tan", "brown", "brown",
        "dark", "dark",
    ]
    assert ita_group(None) == ""


def test_a_bluish_cast_is_read_as_the_end_of_the_scale_not_flipped() -> None:
    """arctan alone would call a light photo with b* < 0 dark (-80°)."""
    assert ita_degrees(75.0, -4.0) == 90.0 and ita_group(ita_degrees(75.0, -4.0)) == "very_light"
    assert ita_degrees(30.0, -2.0) == -90.0


def test_the_skin_around_a_dark_central_lesion_is_measured_not_the_lesion() -> None:
    lab = patch(68.0, 18.0)  # light skin, 45°
    h, w = lab.shape[:2]
    cv2.ellipse(lab, (w // 2, h // 2), (w // 3, h // 3), 0, 0, 360, (25.0, 15.0, 25.0), -1)
    # a lesion reaching past the central ellipse at one side, as large ones do
    cv2.circle(lab, (int(w * 0.8), h // 2), h // 5, (25.0, 15.0, 25.0), -1)

    tone = measure(rgb_from_lab(lab))

    assert tone.group == "light" and tone.ita == pytest.approx(45.0, abs=2.0)


def test_a_black_vignette_around_dark_skin_does_not_darken_it() -> None:
    lab = patch(45.0, 22.0)  # brown skin, -12.8°
    h, w = lab.shape[:2]
    yy, xx = np.ogrid[:h, :w]
    outside = ((xx - w / 2) / (w * 0.55)) ** 2 + ((yy - h / 2) / (h * 0.6)) ** 2 > 1
    lab[outside] = (4.0, 0.0, 1.0)

    tone = measure(rgb_from_lab(lab))

    assert tone.group == "brown" and tone.ita == pytest.approx(-12.8, abs=2.0)


@pytest.mark.parametrize("rel", REAL_PHOTOS)
def test_a_real_photo_gets_a_finite_angle_and_a_group(data_dir: Path, rel: str) -> None:
    tone = measure(read_rgb(data_dir, rel))

    assert tone.ita is not None and -90 <= tone.ita <= 90
    assert tone.group in ITA_GROUP_CODES
    assert 0.1 < tone.skin_fraction < 0.9


@pytest.mark.parametrize("rel", VIGNETTED)
def test_a_real_photos_vignette_is_left_out(data_dir: Path, rel: str) -> None:
    """Cropping the vignette away hardly moves the figure; blackening more of the border (a
    heavier vignette) neither. Counted in, the black would pull L* down by tens of degrees."""
    rgb = read_rgb(data_dir, rel)
    h, w = rgb.shape[:2]
    whole = measure(rgb)
    inner = measure(rgb[h // 6 : -h // 6, w // 6 : -w // 6])
    heavier = rgb.copy()
    yy, xx = np.ogrid[:h, :w]
    heavier[((xx - w / 2) / (w * 0.48)) ** 2 + ((yy - h / 2) / (h * 0.48)) ** 2 > 1] = 0
    assert whole.lightness is not None and inner.lightness is not None
    assert abs(whole.lightness - inner.lightness) < 6
    assert whole.ita is not None and inner.ita is not None
    assert measure(heavier).group == whole.group
    # What the vignette would have done to the median lightness, had it been counted.
    assert float(np.median(cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)[..., 0])) * 100 / 255 < (
        whole.lightness - 10
    )


def test_a_12_mp_photo_measures_as_its_small_copy(data_dir: Path) -> None:
    rgb = read_rgb(data_dir, HAM_IMAGES["nv"])
    big = np.asarray(cv2.resize(rgb, (4000, 3000), interpolation=cv2.INTER_CUBIC), np.uint8)

    assert measure(big).ita == pytest.approx(measure(rgb).ita, abs=3.0)


def test_every_analysis_carries_its_skin_tone_even_when_rejected(
    data_dir: Path, model: LoadedModel
) -> None:
    ok = analyze(encode(read_rgb(data_dir, HAM_IMAGES["mel"])), model)
    blurry = analyze(
        encode(cv2.GaussianBlur(read_rgb(data_dir, HAM_IMAGES["nv"]), (0, 0), 6)), model
    )

    assert ok.skin_tone is not None and ok.skin_tone.group in ITA_GROUP_CODES
    assert "skin_tone" in [s.name for s in ok.stages]
    assert blurry.status == "rejected_quality"
    assert blurry.skin_tone is not None and blurry.skin_tone.ita is not None
    d = json.loads(json.dumps(ok.to_dict()))
    assert d["skin_tone"]["group"] == ok.skin_tone.group
    assert d["skin_tone"]["ita"] == ok.skin_tone.ita


def test_an_undecodable_file_has_no_skin_tone(model: LoadedModel) -> None:
    r = analyze(b"not an image", model)

    assert r.status == "error" and r.skin_tone is None
