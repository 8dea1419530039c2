"""Writes for the diagnosis workflow, by entity: cases (cases.py), uploads and stored files
(uploads.py), an analysis' life in the worker (analyses.py) and its place in the review queue
(review_rank.py). Callers import from here.
"""

from diagnosis.services.analyses import (
    ANALYZE_IMAGE_TASK,
    RunLease,
    analysis_enqueue,
    analysis_record_error,
    analysis_record_result,
    analysis_retry_delay,
    analysis_run_lease,
    analysis_sweep_stuck,
    analysis_take_for_run,
)
from diagnosis.services.cases import case_create, case_reopen_for_new_photo, case_review_seen
from diagnosis.services.review_rank import analyses_review_rank_refresh, review_queue_count
from diagnosis.services.uploads import (
    MB,
    UPLOAD_MESSAGES,
    UploadOutcome,
    lesion_image_read,
    lesion_image_upload,
    stored_files_delete,
)

__all__ = [
    "ANALYZE_IMAGE_TASK", "MB", "UPLOAD_MESSAGES", "UploadOutcome", "analyses_review_rank_refresh",
    "analysis_enqueue",
    "RunLease", "analysis_record_error", "analysis_record_result", "analysis_retry_delay",
    "analysis_run_lease",
    "analysis_sweep_stuck", "analysis_take_for_run", "case_create", "case_reopen_for_new_photo",
    "case_review_seen", "lesion_image_read", "lesion_image_upload", "review_queue_count",
    "stored_files_delete",
]
