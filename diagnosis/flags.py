"""Which finished analyses a dermatologist must see, and how soon.

Pure rules over the pipeline's result dict (AnalysisResult.to_dict()) and what the patient
told us; the service turns the decisions into Flag rows. Priorities are not decided here:
they come from the knowledge base's urgency for the condition behind each flag, so editing
an entry in the admin (say, making `bcc` urgent) changes the queue order too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from diagnosis.models import PRIORITY_RANK, FlagKind
from knowledge.models import UNKNOWN_CODE, Urgency
from ml_worker.inference.labels import CLASS_NAMES, MALIGNANT

# Without a FLAG_MALIGNANT_GROUP_MIN setting and without an operating point in the result
# (models before 2.0), the group threshold of 1.0.x.
LEGACY_MALIGNANT_GROUP_MIN = 0.40


@dataclass(frozen=True)
class Thresholds:
    # P(mel), P(bcc) or P(scc) at or above this flags; None: no per-type rule (the group
    # operating point covers every type, since each type's P is at most the group's)
    malignant_class_min: float | None
    # P(any malignant type) at or above this flags; None: the model card's operating point
    # (carried in the result's `triage`), chosen on val for a target sensitivity
    malignant_group_min: float | None
    low_confidence_below: float  # top probability below this flags
    poor_quality_repeats: int  # this many rejected photos in one case flags

    def group_min(self, result: Mapping[str, Any]) -> float:
        if self.malignant_group_min is not None:
            return self.malignant_group_min
        triage = result.get("triage") or {}
        return float(triage.get("threshold", LEGACY_MALIGNANT_GROUP_MIN))

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            malignant_class_min=settings.FLAG_MALIGNANT_CLASS_MIN,
            malignant_group_min=settings.FLAG_MALIGNANT_GROUP_MIN,
            low_confidence_below=settings.FLAG_LOW_CONFIDENCE_BELOW,
            poor_quality_repeats=settings.FLAG_POOR_QUALITY_REPEATS,
        )


@dataclass(frozen=True)
class FlagDecision:
    kind: FlagKind
    priority: Urgency
    reason: str


def most_urgent(priorities: Iterable[str]) -> Urgency | None:
    ranked = [Urgency(p) for p in priorities if p in PRIORITY_RANK]
    return max(ranked, key=lambda p: PRIORITY_RANK[p]) if ranked else None


def _urgency(urgencies: Mapping[str, str], code: str) -> Urgency:
    # An entry missing from the knowledge base must not drop a flag: treat it like an
    # unidentified lesion, and that like "soon" if it is missing too.
    value = urgencies.get(code) or urgencies.get(UNKNOWN_CODE) or Urgency.SOON
    return Urgency(value)


def decide_flags(
    *,
    result: Mapping[str, Any],
    reported_change: bool,
    rejected_in_case: int,
    urgencies: Mapping[str, str],
    thresholds: Thresholds,
) -> list[FlagDecision]:
    """The flags for one finished analysis.

    `rejected_in_case` counts the case's rejected photos including this one, and
    `urgencies` maps knowledge-base codes to their urgency.
    """
    status = result.get("status")
    flags: list[FlagDecision] = []
    cls = result.get("classification")

    if status in ("ok", "unknown") and cls:
        probs: dict[str, float] = cls["probabilities"]
        malignant = {c: probs.get(c, 0.0) for c in MALIGNANT}
        worst = max(malignant, key=lambda c: malignant[c])
        class_min = thresholds.malignant_class_min
        above = [] if class_min is None else [c for c in MALIGNANT if malignant[c] >= class_min]
        triage = result.get("triage") or {}
        group_p = float(
            triage.get("malignant_score", cls["group_probabilities"].get("malignant", 0.0))
        )
        group_min = thresholds.group_min(result)
        if above or group_p >= group_min:
            if above:
                reason = ", ".join(
                    f"{CLASS_NAMES[c]} {malignant[c]:.2f}" for c in above
                ) + f" ≥ {class_min:.2f}"
            else:
                reason = (
                    f"{CLASS_NAMES[worst]} {malignant[worst]:.2f}; malignant types together "
                    f"{group_p:.2f} ≥ {group_min:.2f}"
                )
            # The most probable malignant type decides: melanoma is urgent, bcc less so.
            flags.append(
                FlagDecision(FlagKind.SUSPECTED_MALIGNANCY, _urgency(urgencies, worst), reason)
            )

        unknown = result.get("unknown") or {}
        if unknown.get("is_unknown"):
            flags.append(
                FlagDecision(
                    FlagKind.UNKNOWN_LESION,
                    _urgency(urgencies, UNKNOWN_CODE),
                    f"unknown score {unknown['score']:.0f} > {unknown['threshold']:.0f}",
                )
            )

        confidence = float(cls["confidence"])
        if confidence < thresholds.low_confidence_below:
            # Unsure between several types: as urgent as the most urgent of the top 3.
            top_codes = [item["code"] for item in cls["top3"]]
            priority = most_urgent(_urgency(urgencies, c) for c in top_codes) or Urgency.SOON
            flags.append(
                FlagDecision(
                    FlagKind.LOW_CONFIDENCE,
                    priority,
                    f"top type {confidence:.2f} < {thresholds.low_confidence_below:.2f}",
                )
            )

    if status == "not_dermoscopic":
        # No class to go on: it waits like an unidentified lesion would.
        flags.append(
            FlagDecision(
                FlagKind.NOT_DERMOSCOPIC,
                _urgency(urgencies, UNKNOWN_CODE),
                "ordinary camera photo "
                f"(P {result['photo_type']['ordinary_score']:.2f} ≥ "
                f"{result['photo_type']['threshold']:.2f}): no automatic class",
            )
        )

    if status in ("rejected_quality", "rejected_not_skin"):
        if rejected_in_case >= thresholds.poor_quality_repeats:
            # We cannot tell what it is, so it waits like an unidentified lesion would.
            flags.append(
                FlagDecision(
                    FlagKind.REPEATED_POOR_QUALITY,
                    _urgency(urgencies, UNKNOWN_CODE),
                    f"{rejected_in_case} photos of this lesion rejected",
                )
            )

    if reported_change and status in (
        "ok", "unknown", "not_dermoscopic", "rejected_quality", "rejected_not_skin"
    ):
        # A changing or bleeding lesion is a warning sign whatever the model thinks of the
        # photo: at least as urgent as an unidentified lesion.
        predicted = cls["predicted"] if cls and status in ("ok", "unknown") else UNKNOWN_CODE
        unknown_urgency = _urgency(urgencies, UNKNOWN_CODE)
        change_priority = most_urgent([_urgency(urgencies, predicted), unknown_urgency])
        flags.append(
            FlagDecision(
                FlagKind.PATIENT_REPORTED_CHANGE,
                change_priority or unknown_urgency,
                "the patient says it changed or bleeds",
            )
        )
    return flags
