"""The one spelling of each condition: the knowledge base's name, for every page and answer.

The classifier's labels (ml_worker/inference/labels.py) are its own short names ("melanocytic
nevus"); patients and dermatologists read the knowledge base's ("Melanocytic naevus (mole)"),
which administrators edit. Everything that shows a condition by its code asks here.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from knowledge.models import Disease

CACHE_KEY = "knowledge:condition_names"
# Nine short rows asked for on every result; the admin forgets them on save, and the timeout
# bounds how long another process may show an old name.
CACHE_SECONDS = 300
# A page asks for a name per cell (75 on a queue page), and the shared cache is a file read or
# a Redis round trip per ask: each process keeps its copy this long before asking again, so
# another process's edit shows here within as much.
LOCAL_SECONDS = 2.0
_local: tuple[float, dict[str, str]] | None = None


def condition_names() -> dict[str, str]:
    """code -> the knowledge base's name, for every entry."""
    global _local
    now = time.monotonic()
    kept = _local
    if kept is not None and now - kept[0] < LOCAL_SECONDS:
        return kept[1]
    names: dict[str, str] | None = cache.get(CACHE_KEY)
    if names is None:
        names = dict(Disease.objects.values_list("code", "name"))
        cache.set(CACHE_KEY, names, CACHE_SECONDS)
    _local = (now, names)
    return names


def condition_name(code: str) -> str:
    """The knowledge base's name for `code`; the code itself if it has no entry (yet)."""
    return condition_names().get(code) or code


def condition_names_forget() -> None:
    """After an edit of the knowledge base: the next question reads the names again (other
    processes within LOCAL_SECONDS)."""
    global _local
    _local = None
    cache.delete(CACHE_KEY)
