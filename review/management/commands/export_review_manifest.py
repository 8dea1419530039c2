"""Export dermatologists' conclusions as an evaluation manifest (see review.export).

    python manage.py export_review_manifest DEST_DIR [--all]
    python -m ml_worker.evaluate DEST_DIR/manifest.csv
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from audit.services import record_access
from review.export import MANIFEST_NAME, write_export_dir


class Command(BaseCommand):
    help = "Write DEST/manifest.csv and DEST/images/ for reviews that disagree with the model."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dest", type=Path)
        parser.add_argument(
            "--all", action="store_true", help="Every signed-off review, agreements included."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dest: Path = options["dest"]
        summary = write_export_dir(dest, include_agreements=options["all"])
        record_access(
            None, "export", object_type="diagnosis.review",
            detail={"rows": summary.rows, "skipped_no_consent": summary.skipped_no_consent,
                    "all": bool(options["all"]), "via": "manage.py"},
        )
        self.stdout.write(
            f"{summary.rows} rows in {dest / MANIFEST_NAME}; "
            f"{summary.skipped_no_consent} left out (no research consent)"
        )
