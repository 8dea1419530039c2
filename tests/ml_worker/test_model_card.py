"""The committed model card: the markdown is the JSON rendered, and it says what it must."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ml_worker.inference.model import CARD_NAME, DEFAULT_MODEL_DIR
from ml_worker.training.card import _fmt, render_markdown


@pytest.fixture(scope="module")
def card() -> dict[str, Any]:
    return json.loads((DEFAULT_MODEL_DIR / CARD_NAME).read_text())


def test_the_committed_markdown_card_is_rendered_from_the_json_card(card: dict[str, Any]) -> None:
    assert (DEFAULT_MODEL_DIR / "MODEL_CARD.md").read_text() == render_markdown(card)


def test_the_card_states_version_licence_test_figures_and_recipe(card: dict[str, Any]) -> None:
    md = render_markdown(card)
    assert card["version"] in md
    assert "CC BY-NC 4.0" in md
    cfg = card["training"]["config"]
    assert f"from block {cfg['unfreeze_from_block']}, peak learning rate {cfg['finetune_lr']}" in md
    balanced = card["test"]["test_all"]["metrics"]["balanced_accuracy"]
    assert f"| balanced accuracy (8 classes) | {_fmt(balanced)} |" in md
