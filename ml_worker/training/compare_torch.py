"""Dev-only: compare the Keras port with the PyTorch reference implementation.

    pip install torch==2.13.0 efficientnet-lite-pytorch==0.1.0   # not project dependencies
    python -m ml_worker.training.compare_torch

Feeds the same normalised images to both and prints the largest logit difference.
"""

from __future__ import annotations

import json

import numpy as np


def compare() -> dict[str, float]:
    import torch
    from efficientnet_lite_pytorch import EfficientNet
    from PIL import Image
    from skimage import data

    from ml_worker.training.efficientnet_lite import (
        PIXEL_MEAN,
        PIXEL_STD,
        build_imagenet_classifier,
        load_imagenet_weights,
    )
    from ml_worker.training.torch_weights import lite0_weights_path

    ref = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(lite0_weights_path()))
    ref.eval()
    port = build_imagenet_classifier((224, 224, 3))
    load_imagenet_weights(port)
    out: dict[str, float] = {}
    for name in ("chelsea", "coffee", "astronaut", "rocket"):
        img = np.asarray(
            Image.fromarray(getattr(data, name)()).convert("RGB").resize((224, 224)), np.float32
        )
        k = np.asarray(port(img[None], training=False))[0]
        x = torch.from_numpy(((img - PIXEL_MEAN) / PIXEL_STD).transpose(2, 0, 1)[None].copy())
        with torch.no_grad():
            t = ref(x).numpy()[0]
        out[f"{name}_max_abs_logit_diff"] = float(np.abs(k - t).max())
        out[f"{name}_same_top1"] = float(k.argmax() == t.argmax())
    return out


if __name__ == "__main__":
    print(json.dumps(compare(), indent=2))
