"""End to end: a tiny 2-view video classifier trained from video files (decoded by PyAV,
random clip sampling, attention view pooling) gives the same per-step losses and metrics in
both engines."""

from __future__ import annotations

import pytest
import torch

import litrain
from fakevideo import two_view_set
from helpers import step_losses

RUN = {
    "data.source": "video_files",
    "data.frames_per_clip": 4,
    "data.frame_stride": 2,
    "data.clip_sampling": "random",
    "data.img_height": 16,
    "data.img_width": 16,
    "data.batch_size": 2,
    "data.val_split": 0.34,
    "model.name": "torchvision:mc3_18",
    "model.view_pool": "attention",
    "task.type": "classification",
    "trainer.max_epochs": 1,
    "trainer.log_every_n_steps": 1,
}


@pytest.mark.slow
def test_two_view_video_trains_the_same_in_both_engines(tmp_path):
    data = tmp_path / "data"
    two_view_set(data, n=6, frames=10)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # both engines sum in the same order
    try:
        results = {
            engine: litrain.fit(
                run_dir=tmp_path / engine,
                quiet=True,
                overwrite=True,
                **RUN,
                **{"data.root": str(data)},
                **{"run.engine": engine},
            )
            for engine in ("lightning", "native")
        }
    finally:
        torch.set_num_threads(threads)
    light, native = (step_losses(results[e].run_dir) for e in ("lightning", "native"))
    assert len(light) == 2  # 4 training samples, batch 2
    torch.testing.assert_close(torch.tensor(light), torch.tensor(native), rtol=0, atol=1e-5)
    for key in ("val/loss", "val/acc"):
        assert abs(results["lightning"].metrics[key] - results["native"].metrics[key]) <= 1e-5
    summary = results["native"].run_dir / "summary.json"
    assert summary.is_file()
