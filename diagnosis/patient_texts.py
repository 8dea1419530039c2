"""What the patient reads about an analysis before a dermatologist's conclusion: one place.
Also where each case stands (My cases, the API's patient_status), its default title, and the
conclusion as the case page words it.

The case page (templates/diagnosis/_result.html, _summary.html) and the API
(AnalysisOutputSerializer.patient_text) both take their words from here, so that a page and
an app never tell the patient two different things.

The rule these texts keep: until a dermatologist has looked, nothing may say or imply that a
lesion is harmless. A result without a flag only means that the automated estimate raised
none of the reasons that send a photo to a dermatologist, and the estimate can be wrong. So
every finished result says what it is (an automated estimate, not a diagnosis), what happens
next (a dermatologist reviews it, and roughly when; or nobody will unless the patient sees a
doctor), and what should make the patient see a doctor anyway (the knowledge base's "when to
see a doctor" for the condition). Percentages appear only with a lesion type the model
actually named: for a photo it called unknown, its closest types are not an answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.utils import timezone

from diagnosis.conclusions import Recommendation, ReviewRead
from diagnosis.models import Analysis, AnalysisStatus, BodySite, Flag, FlagKind
from knowledge.models import Disease, Urgency
from knowledge.names import condition_name

# The states of a result as the patient sees it.
PENDING = "pending"
ESTIMATE = "estimate"  # the model named one of its lesion types
UNKNOWN = "unknown"  # none of the types it knows
NOT_DERMOSCOPIC = "not_dermoscopic"  # an ordinary camera photo: no type estimated
REJECTED = "rejected"
FAILED = "failed"

NOT_A_DIAGNOSIS = (
    "This is not a diagnosis. It is an automated estimate from a photo, which can be wrong. "
    "Only a doctor who examines you can diagnose a skin condition."
)
IF_WORRIED = "If you are worried about it, see a doctor, whatever this page says."
SEE_A_DOCTOR_HEADING = "When to see a doctor anyway"
GUIDANCE_INTRO_ESTIMATE = (
    "General information about {name}, the type the automated estimate names. It describes "
    "that type, not your lesion: only a doctor who examines you can say what your lesion is."
)
GUIDANCE_INTRO_UNNAMED = (
    "General information for photos the automated assessment cannot name. Only a doctor who "
    "examines you can say what your lesion is."
)

# Flags as the patient reads them: why a dermatologist will look, without clinical jargon.
PATIENT_REASONS = {
    FlagKind.SUSPECTED_MALIGNANCY: "the result includes a type of skin cancer that a "
    "specialist should rule out",
    FlagKind.UNKNOWN_LESION: "it does not look like the types the model knows",
    FlagKind.LOW_CONFIDENCE: "the model is unsure between several types",
    FlagKind.REPEATED_POOR_QUALITY: "several photos of it could not be assessed",
    FlagKind.PATIENT_REPORTED_CHANGE: "you told us it has changed or bleeds",
    FlagKind.RETAKE_RECEIVED: "your dermatologist asked for this new photo",
    FlagKind.NOT_DERMOSCOPIC: "it is an ordinary photo, which only a dermatologist can assess",
}


# Why a photo must be taken again, per reason code of the quality and skin checks, in words a
# patient can act on. The checks' own messages carry the measurements (sharpness 12 < 40): they
# stay in the API and on the dermatologists' pages, not on the patient's.
RETAKE_TEXTS = {
    "blurry": "The photo is blurry: hold the phone still, tap the lesion to focus.",
    "too_dark": "The photo is too dark: use daylight or a lamp, without flash.",
    "too_bright": "The photo is too bright: avoid flash and direct light.",
    "too_small": "The photo is too small: take it closer, at full resolution.",
    "not_skin": "This does not look like a photo of skin: photograph the lesion itself, close "
    "up, filling most of the frame.",
}
RETAKE_FALLBACK = "The photo could not be assessed: take it again in good light, close up."


def retake_text(code: str) -> str:
    return RETAKE_TEXTS.get(code, RETAKE_FALLBACK)


def percent(value: float | None) -> str:
    """0.8342 -> "83"; below 1 % shows "<1" so a bar is never labelled 0 % yet drawn."""
    if value is None:
        return ""
    pct = float(value) * 100
    return "<1" if 0 < pct < 1 else f"{pct:.0f}"


def patient_reason(flag: Flag) -> str:
    return PATIENT_REASONS.get(FlagKind(flag.kind), flag.get_kind_display().lower())


@dataclass(frozen=True)
class ResultText:
    """An analysis' result in the patient's words; empty fields are not shown."""

    state: str
    heading: str
    # Next to the heading: the named type's probability, None where it would mean nothing.
    probability: float | None = None
    paragraphs: tuple[str, ...] = ()
    notice: str = ""  # what the result is: an automated estimate, not a diagnosis
    show_probabilities: bool = False  # the three most likely types with their percentages
    next_step: str = ""  # whether and roughly when a dermatologist looks
    review_reasons: tuple[str, ...] = ()
    see_a_doctor_heading: str = ""
    see_a_doctor_if: tuple[str, ...] = ()  # the knowledge base's paragraphs, then ours
    # Above the knowledge-base entry shown with the estimate: it is about a type, not a lesion.
    guidance_intro: str = ""
    retake_reasons: tuple[str, ...] = ()  # a rejected photo: what to do differently, no numbers


def result_state(analysis: Analysis) -> str:
    if analysis.is_pending:
        return PENDING
    if analysis.status == AnalysisStatus.DONE:
        if analysis.is_not_dermoscopic:
            return NOT_DERMOSCOPIC
        if analysis.is_unknown or not analysis.top3:
            return UNKNOWN
        return ESTIMATE
    if analysis.status == AnalysisStatus.REJECTED:
        return REJECTED
    return FAILED


def expected_review_days(priority: str) -> int:
    days: dict[str, int] = settings.REVIEW_EXPECTED_DAYS
    return days.get(priority) or days[Urgency.ROUTINE]


def _next_step(analysis: Analysis, state: str, superseded: bool) -> tuple[str, tuple[str, ...]]:
    if superseded:
        return ("A dermatologist has reviewed your case: their conclusion replaces this "
                "estimate.", ())
    if analysis.needs_review:
        days = expected_review_days(analysis.priority)
        priority = " as a priority" if analysis.priority == Urgency.URGENT else ""
        reasons = tuple(patient_reason(f) for f in analysis.flags.all() if f.resolved_at is None)
        return (f"A dermatologist will review this photo{priority}, usually within {days} "
                f"working day{'s' if days != 1 else ''}.", reasons)
    if analysis.flags.all():
        return "A dermatologist has looked at this photo.", ()
    if state in (ESTIMATE, UNKNOWN, NOT_DERMOSCOPIC):
        return ("No dermatologist will look at this photo: the automated estimate raised "
                "none of the reasons that send a photo to one. That does not mean the lesion "
                "is harmless. The estimate can be wrong, and it cannot know how the lesion "
                "feels or how it has changed.", ())
    return "", ()


def _see_a_doctor(disease: Disease | None) -> tuple[str, ...]:
    paragraphs = disease.when_to_see_doctor.split("\n\n") if disease is not None else []
    return (*(p.strip() for p in paragraphs if p.strip()), IF_WORRIED)


def result_text(
    analysis: Analysis, *, disease: Disease | None, superseded: bool = False
) -> ResultText:
    """The patient's reading of `analysis`.

    `disease` is the knowledge-base entry of analysis.guidance_code (None without one);
    `superseded`, whether a dermatologist's conclusion covers the analysis.
    """
    state = result_state(analysis)
    if state == PENDING:
        running = ("The analysis is running." if analysis.status == AnalysisStatus.RUNNING
                   else "Waiting for the analysis to start.")
        return ResultText(state=state, heading="Analysing your photo…",
                          paragraphs=(f"{running} This page updates by itself.",))
    next_step, reasons = _next_step(analysis, state, superseded)
    # After a conclusion, the dermatologist's guidance is what counts, not the knowledge
    # base's entry for the model's answer.
    see_a_doctor = () if superseded else _see_a_doctor(disease)
    intro = ""
    if disease is not None and not superseded:
        intro = (GUIDANCE_INTRO_ESTIMATE.format(name=disease.name.lower())
                 if state == ESTIMATE else GUIDANCE_INTRO_UNNAMED)
    common = ResultText(
        state=state, heading="", next_step=next_step, review_reasons=reasons,
        see_a_doctor_heading=SEE_A_DOCTOR_HEADING if see_a_doctor else "",
        see_a_doctor_if=see_a_doctor, guidance_intro=intro,
    )
    if state == ESTIMATE:
        top = analysis.top3[0]
        return replace(
            common, heading=f"Automated estimate: {condition_name(str(top['code']))}",
            probability=float(top["probability"]), notice=NOT_A_DIAGNOSIS,
            show_probabilities=True,
        )
    if state == UNKNOWN:
        return replace(
            common, heading="This does not look like one of the lesion types we know",
            paragraphs=("The model compares photos with 8 common types of skin lesion; this one "
                        "does not resemble them closely enough to say which it is.",),
            notice=NOT_A_DIAGNOSIS,
        )
    if state == NOT_DERMOSCOPIC:
        return replace(
            common, heading="A dermatologist will assess this photo",
            paragraphs=(
                "This looks like an ordinary camera photo. The automatic assessment works only "
                "on photos taken through a dermatoscope (a magnifier with its own light), so no "
                "lesion type was estimated.",
                "A clip-on dermatoscope for your phone gives an automatic first assessment "
                "next time.",
            ),
        )
    if state == REJECTED:
        if analysis.outcome == "rejected_not_skin":
            paragraphs: tuple[str, ...] = (retake_text("not_skin"),)
            retakes: tuple[str, ...] = ()
        else:
            paragraphs = ("We could not assess this photo, so nothing was classified:",)
            # One sentence per code: the overexposure check has two reasons with one advice.
            codes = dict.fromkeys(str(r.get("code", "")) for r in analysis.quality_reasons)
            retakes = tuple(dict.fromkeys(retake_text(c) for c in codes))
        return ResultText(state=state, heading="Please take the photo again",
                          paragraphs=paragraphs, next_step=next_step, review_reasons=reasons,
                          retake_reasons=retakes)
    return ResultText(
        state=state, heading="We could not analyse this photo",
        paragraphs=("Something went wrong on our side; nothing was classified. Please upload "
                    "the photo again later. If it keeps failing, contact us.",),
    )


def short_summary(analysis: Analysis | None) -> str:
    """One line for lists of photos (the case's history, earlier photos on the review page)."""
    if analysis is None:
        return "Not analysed"
    state = result_state(analysis)
    if state == ESTIMATE:
        top = analysis.top3[0]
        return f"{condition_name(str(top['code']))} ({percent(top['probability'])}%)"
    return {
        PENDING: "Being analysed…",
        UNKNOWN: "Not one of the types we know",
        NOT_DERMOSCOPIC: "Ordinary photo, for a dermatologist",
        REJECTED: "Retake needed",
        FAILED: "Could not be analysed",
    }[state]


# --- Cases: their titles, where each stands, and the dermatologist's conclusion ---------------


def default_case_title(body_site: str, day: dt.date) -> str:
    """A new case's title when the patient gives none: "Back, 3 Dec 2026"."""
    site = BodySite(body_site).label if body_site in BodySite.values else body_site
    return f"{site}, {day.day} {day:%b %Y}"


def long_date(moment: dt.datetime) -> str:
    """3 December 2026, in the site's time zone."""
    day = timezone.localdate(moment)
    return f"{day.day} {day:%B %Y}"


def dermatologist_name(user: Any) -> str:
    """How the patient's pages name a dermatologist: "Dr Dana Smith"."""
    name = user.get_full_name().strip() if user is not None else ""
    if not name:
        return "Your dermatologist"
    return name if name.lower().startswith(("dr ", "dr. ")) else f"Dr {name}"


# Where a case stands, as My cases and the API's patient_status say it
# (diagnosis/patient_status.py decides which). Codes are for apps; labels and texts for people.
NO_PHOTO = "no_photo"
AWAITING_ANALYSIS = "awaiting_analysis"
NEEDS_NEW_PHOTO = "needs_new_photo"
AWAITING_DERMATOLOGIST = "awaiting_dermatologist"
REVIEWED = "reviewed"
ESTIMATE_READY = "estimate_ready"
CLOSED = "closed"

CASE_STATUS_LABELS = {
    NO_PHOTO: "Add a photo",
    AWAITING_ANALYSIS: "Awaiting analysis",
    NEEDS_NEW_PHOTO: "Needs a new photo",
    AWAITING_DERMATOLOGIST: "Waiting for a dermatologist",
    REVIEWED: "Reviewed by {reviewer} on {date}",
    ESTIMATE_READY: "Automated estimate ready",
    CLOSED: "Closed",
}
NEW_REVIEW_BADGE = "New"
STATUS_NO_PHOTO = "No photo yet: add one to get an automated first assessment."
STATUS_ANALYSING = "Your photo is being analysed. This usually takes a few seconds."
STATUS_RETAKE_ASKED = "Your dermatologist asked for a new photo. Add it on the case page."
STATUS_REJECTED = "Your last photo could not be assessed. Please take it again."
STATUS_FAILED = "We could not analyse your last photo. Please send it again."
STATUS_WAITING = (
    "A dermatologist will review your photo{priority}, usually within {days} working "
    "day{plural}."
)
STATUS_REVIEWED = "Open the case to read their conclusion."
STATUS_ESTIMATE_READY = (
    "Not reviewed by a dermatologist: the automated estimate raised no reason to send it to "
    "one. It can be wrong; see a doctor if you are worried."
)
STATUS_CLOSED = "Nobody is working on this case now. Add a new photo to have it checked again."


@dataclass(frozen=True)
class CaseStatusText:
    """Where a case stands, in the patient's words."""

    code: str
    label: str
    text: str
    new: bool = False  # a conclusion the patient has not opened the case page since
    reviewer_name: str = ""
    reviewed_at: dt.datetime | None = None


def waiting_text(priority: str) -> str:
    days = expected_review_days(priority)
    return STATUS_WAITING.format(
        priority=" as a priority" if priority == Urgency.URGENT else "", days=days,
        plural="s" if days != 1 else "",
    )


def reviewed_status(review: ReviewRead, *, new: bool) -> CaseStatusText:
    reviewer = dermatologist_name(review.reviewer)
    return CaseStatusText(
        code=REVIEWED,
        label=CASE_STATUS_LABELS[REVIEWED].format(
            reviewer=reviewer, date=long_date(review.signed_off_at)),
        text=STATUS_REVIEWED, new=new, reviewer_name=reviewer,
        reviewed_at=review.signed_off_at,
    )


# The conclusion on the case page: sentences, not a list of labels.
RECOMMENDATION_SENTENCES = {
    Recommendation.SELF_CARE: "You do not need a visit: you can look after it yourself.",
    Recommendation.SEE_DOCTOR: "Please see a doctor in person within {days} days.",
    Recommendation.URGENT_REFERRAL: "You need to see a specialist urgently: you are being "
    "referred.",
    Recommendation.BIOPSY: "A biopsy is needed: a doctor takes a small sample of the skin to "
    "examine in a laboratory.",
}


@dataclass(frozen=True)
class ConclusionText:
    """A conclusion as the case page writes it: `lead` and the diagnosis make one sentence
    ("Dr Dana Smith reviewed your photo on 3 December 2026: melanoma.")."""

    lead: str
    diagnosis: str
    recommendation: str
    message_heading: str


def conclusion_text(review: ReviewRead, *, covers_latest: bool) -> ConclusionText:
    reviewer = dermatologist_name(review.reviewer)
    photo = ("your photo" if covers_latest
             else f"your photo of {long_date(review.analysis.image.created_at)}")
    second = ", with a second opinion" if review.is_second_opinion else ""
    # The knowledge base's names are capitalised labels ("Melanoma"); inside a sentence they
    # read in lower case. A free-text diagnosis stays as the dermatologist typed it.
    diagnosis = (review.diagnosis.name.lower() if review.diagnosis is not None
                 else review.diagnosis_text)
    recommendation = RECOMMENDATION_SENTENCES.get(
        Recommendation(review.recommendation), review.recommendation_text
    ).format(days=review.follow_up_days)
    return ConclusionText(
        lead=f"{reviewer} reviewed {photo} on {long_date(review.signed_off_at)}{second}:",
        diagnosis=diagnosis, recommendation=recommendation,
        message_heading=f"{reviewer}'s message to you",
    )
