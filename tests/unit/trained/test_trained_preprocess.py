"""trained/preprocess.py: raw inputs as a source reads them become the model's input exactly
as training made it (scale, layout, resize, mean/std); anything else is refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from litrain.data.transforms import resize_images
from litrain.errors import ConfigError
from litrain.trained.preprocess import Preprocess


def _card(shape, source=None, scale=1.0, image_size=None, mean=None, std=None, kind="image", views=0):
    return {
        "input": {"shape": list(shape), "dtype": "float32", "views": views, "kind": kind},
        "raw": {
            "shape": list(source or shape),
            "scale": scale,
            "image_size": image_size,
            "mean": mean,
            "std": std,
        },
    }


def test_uint8_channels_last_images_are_scaled_transposed_and_normalized():
    mean, std = [[[0.5]], [[0.4]], [[0.3]]], [[[0.2]], [[0.25]], [[0.5]]]
    pre = Preprocess(_card((3, 4, 4), mean=mean, std=std))
    hwc = np.random.default_rng(0).integers(0, 256, size=(2, 4, 4, 3), dtype=np.uint8)
    chw = torch.from_numpy(hwc).permute(0, 3, 1, 2).float() / 255
    expected = (chw - torch.tensor(mean)) / torch.tensor(std)
    torch.testing.assert_close(pre(hwc), expected, rtol=0, atol=0)
    torch.testing.assert_close(pre(hwc[0]), expected[:1], rtol=0, atol=0)  # one image
    torch.testing.assert_close(pre(torch.from_numpy(hwc).permute(0, 3, 1, 2)), expected, rtol=0, atol=0)
    torch.testing.assert_close(pre(chw), expected, rtol=0, atol=0)  # floats as the source yields them


def test_digits_raw_forms_and_the_resize_training_did():
    pre = Preprocess(_card((1, 16, 16), source=(1, 8, 8), scale=16.0, image_size=16))
    raw = np.arange(3 * 64, dtype=np.float64).reshape(3, 64) % 17  # 0-16, as sklearn's digits
    expected = resize_images(torch.tensor(raw, dtype=torch.float32).reshape(3, 1, 8, 8) / 16, 16)
    torch.testing.assert_close(pre(raw), expected)
    torch.testing.assert_close(pre(raw.reshape(3, 8, 8)), expected)
    torch.testing.assert_close(pre(torch.tensor(raw, dtype=torch.float32).reshape(3, 1, 8, 8) / 16), expected)


def test_arrays_as_stored_and_a_one_line_refusal():
    pre = Preprocess(_card((5,), kind="array"))
    x = np.ones((4, 5), dtype=np.float32)
    assert pre(x).shape == (4, 5) and pre(x[0]).shape == (1, 5)
    with pytest.raises(ConfigError) as err:
        pre(np.ones((4, 6)))
    assert str(err.value) == "predict: got inputs of shape (4, 6); it takes one sample (5) or a batch (N, 5)"
    assert "\n" not in str(err.value)
