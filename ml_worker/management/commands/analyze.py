"""`python manage.py analyze PATH [--json]`: the worker's pipeline, synchronously, on a file.

The file goes through the upload's own sanitising first (diagnosis.imaging.prepare_upload:
orientation applied, metadata dropped, the longest side capped, re-encoded as JPEG), and the
pipeline runs on that copy, as the worker does on the stored photo. So the command prints the
numbers the site shows for the same file; run on the raw bytes it would differ slightly
(the re-encoding moves pixels), and the stored copy is the one a dermatologist sees.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diagnosis.imaging import prepare_upload
from ml_worker.inference import (
    AnalysisResult,
    ImageDecodeError,
    ModelUnavailableError,
    analyze,
    get_model,
)


class Command(BaseCommand):
    help = (
        "Run the skin-analysis pipeline on an image file, sanitised as an upload is, and print "
        "the result."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="A JPEG, PNG or WebP file.")
        parser.add_argument("--json", action="store_true", help="Print the full result as JSON.")

    def handle(self, *args: Any, path: Path, json: bool = False, **options: Any) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            stored = prepare_upload(data).jpeg
        except ImageDecodeError as exc:  # the upload would have been refused the same way
            raise CommandError(f"{exc.code}: {exc}") from exc
        try:
            result = analyze(stored, get_model())
        except ModelUnavailableError as exc:
            raise CommandError(str(exc)) from exc
        if json:
            self.stdout.write(_dumps(result))
        else:
            self.stdout.write(_summary(result))
        if result.status == "error":
            raise CommandError(f"{result.error_code}: {result.error}")


def _dumps(result: AnalysisResult) -> str:
    return json.dumps(result.to_dict(), indent=2)


def _summary(result: AnalysisResult) -> str:
    lines = [f"status: {result.status}", f"model: {result.model_version}"]
    if result.quality:
        q = result.quality
        lines.append(
            f"quality: {'ok' if q.ok else 'rejected'} (sharpness {q.sharpness:.1f}, "
            f"{q.width}x{q.height})"
        )
        lines += [f"  - {reason.message}" for reason in q.reasons]
    if result.skin:
        lines.append(f"skin: {result.skin.is_skin} (score {result.skin.score:.2f})")
    if result.classification:
        lines.append("top 3:")
        lines += [
            f"  {p.probability:6.1%}  {p.code:5} {p.name}" for p in result.classification.top3
        ]
    if result.unknown:
        u = result.unknown
        lines.append(f"unknown: {u.is_unknown} (score {u.score:.0f}, threshold {u.threshold:.0f})")
    lines += [f"note: {m}" for m in result.messages]
    stages = ", ".join(f"{s.name} {s.ms:.1f}" for s in result.stages)
    lines.append(f"timings (ms): {stages}; total {result.total_ms:.1f}")
    return "\n".join(lines)
