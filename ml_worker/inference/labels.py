"""The 8 lesion classes (ISIC 2019 taxonomy) and their clinical groups."""

from __future__ import annotations

from typing import Final

CLASSES: Final[tuple[str, ...]] = ("ak", "bcc", "bkl", "df", "mel", "nv", "scc", "vasc")

CLASS_NAMES: Final[dict[str, str]] = {
    "ak": "actinic keratosis",
    "bcc": "basal cell carcinoma",
    "bkl": "benign keratosis",
    "df": "dermatofibroma",
    "mel": "melanoma",
    "nv": "melanocytic nevus",
    "scc": "squamous cell carcinoma",
    "vasc": "vascular lesion",
}

GROUPS: Final[dict[str, str]] = {
    "ak": "pre_malignant",
    "bcc": "malignant",
    "bkl": "benign",
    "df": "benign",
    "mel": "malignant",
    "nv": "benign",
    "scc": "malignant",
    "vasc": "benign",
}

MALIGNANT: Final[tuple[str, ...]] = tuple(c for c in CLASSES if GROUPS[c] == "malignant")
BENIGN: Final[tuple[str, ...]] = tuple(c for c in CLASSES if GROUPS[c] == "benign")
