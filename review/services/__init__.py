"""Writes of the dermatologists' review, by entity: claims (claims.py), decisions: sign-off,
escalation, retakes (decisions.py), and annotations (annotations.py). Callers import from here.

Each function records its events on the case's timeline (audit.services.record_event); a
change of the case's status goes through diagnosis.case_life.case_move, which records the
event that comes with it.
"""

from review.conclusion import Conclusion
from review.services.annotations import annotation_create, annotation_delete, annotation_update
from review.services.claims import (
    NO_CLAIM,
    ReviewConflict,
    claim_duration,
    escalated_by,
    is_awaiting_review,
    review_claim,
    review_claims_expire,
    review_reassign,
    review_release,
)
from review.services.decisions import review_escalate, review_request_retake, review_sign_off

__all__ = [
    "Conclusion", "NO_CLAIM", "ReviewConflict", "annotation_create", "annotation_delete",
    "annotation_update", "claim_duration", "escalated_by", "is_awaiting_review", "review_claim",
    "review_claims_expire", "review_escalate", "review_reassign", "review_release",
    "review_request_retake", "review_sign_off",
]
