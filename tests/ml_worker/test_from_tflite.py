"""The served network's Keras weights rebuilt from its TFLite file (`training.from_tflite`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ml_worker.inference.model import LoadedModel
from ml_worker.training.data import Item, dermoscopy_items, load_inputs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def photos(model: LoadedModel) -> np.ndarray:
    """Network inputs of real val photos, two of each source, as the worker frames them."""
    val = [it for it in dermoscopy_items() if it.split == "val"]
    chosen: list[Item] = []
    for source in ("ham10000", "derm7pt", "isic2017"):
        chosen += [it for it in val if it.source == source][:2]
    return load_inputs(chosen, model.input_size, prep=model.preprocessing)


def test_the_rebuilt_keras_model_answers_as_the_served_tflite_file(
    model: LoadedModel, photos: np.ndarray, tmp_path: Path
) -> None:
    import keras

    from ml_worker.training.from_tflite import main
    from ml_worker.training.train import build_classifier

    card = model.card
    assert main([str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "train_summary.json").read_text())
    assert summary["rebuilt_from"].endswith(card["version"])
    assert tuple(summary["input_size"]) == model.input_size

    # Loaded as the export loads a training run's weights.
    rebuilt, backbone = build_classifier(seed=0, input_size=model.input_size)
    rebuilt.load_weights(tmp_path / "classifier.weights.h5")
    both = keras.Model(rebuilt.input, [rebuilt.output, backbone.output])
    logits, features = both.predict(photos.astype(np.float32), verbose=0)
    served = [model.network(im) for im in photos]
    served_logits = np.stack([s[0] for s in served])
    served_features = np.stack([s[1] for s in served])
    assert np.abs(logits - served_logits).max() < 1e-3
    assert np.abs(features - served_features).max() < 1e-3
    assert (logits.argmax(1) == served_logits.argmax(1)).all()
    # Not a trivial match: the photos get different answers.
    assert np.abs(served_logits - served_logits.mean(0)).max() > 0.5


def test_a_network_of_another_shape_is_refused_by_name() -> None:
    import keras
    import tensorflow as tf

    from ml_worker.training.from_tflite import rebuild

    inp = keras.Input((168, 224, 3))
    x = keras.layers.Conv2D(8, 3)(inp)
    x = keras.layers.GlobalAveragePooling2D()(x)
    tiny = keras.Model(inp, keras.layers.Dense(8)(x))
    tflite = tf.lite.TFLiteConverter.from_keras_model(tiny).convert()
    with pytest.raises(ValueError, match="1 convolutions, the model 49"):
        rebuild(bytes(tflite), (168, 224))
