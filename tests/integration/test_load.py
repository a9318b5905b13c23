"""A trained model back in Python: ``litrain.load(run).predict(x)`` gives what ``litrain
predict`` wrote for the same samples (Lightning and native runs), and
``TaskModule.load_from_checkpoint`` rebuilds the same model from the checkpoint alone. Also
``litrain predict`` with a user's LightningModule that has no predict_step."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

import litrain
from litrain.cli import main
from litrain.data.datamodule import build_datamodule
from litrain.engines.lightning.module import TaskModule
from litrain.errors import ConfigError
from litrain.registry import DATASETS

# image_size 16 on the 8x8 digits: predict must resize as training did, then normalize
RUN = {"trainer.max_epochs": 1, "data.image_size": 16, "data.test_split": 0.1, "model.name": "cnn"}


def _predictions_csv(run: Path) -> torch.Tensor:
    with pytest.raises(SystemExit) as done:
        main(["predict", "--run-dir", str(run), "--quiet"])
    assert done.value.code == 0
    rows = list(csv.DictReader((run / "predictions.csv").open()))
    return torch.tensor([[float(v) for k, v in row.items() if k.startswith("prob_")] for row in rows])


def _raw_test_samples(cfg: litrain.config.Config) -> torch.Tensor:
    """The test split's samples as the source gives them: 8x8, not normalized."""
    dm = build_datamodule(cfg.data, cfg.task, cfg.run.seed)
    dm.setup()
    source = DATASETS.get(cfg.data.source)(cfg.data)
    return source.train[0][dm.test_set.indices]


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_load_predicts_what_litrain_predict_wrote(engine: str, tmp_path: Path) -> None:
    run = tmp_path / engine
    litrain.fit(run_dir=run, quiet=True, **{**RUN, "run.engine": engine})
    written = _predictions_csv(run)
    loaded = litrain.load(run)
    assert not loaded.model.training
    assert loaded.config.model.name == "cnn" and loaded.config.run.engine == engine
    assert loaded.task is not None and loaded.task.num_outputs == 10
    raw = _raw_test_samples(loaded.config)
    assert raw.shape == (len(written), 1, 8, 8)
    before = torch.random.get_rng_state()
    probs = loaded.predict(raw)
    torch.testing.assert_close(probs, written, atol=1e-6, rtol=0)  # the CSV has 6 decimals
    torch.testing.assert_close(loaded.predict(raw[0]), probs[:1])  # one sample
    assert torch.equal(torch.random.get_rng_state(), before)

    # the checkpoint file alone gives the same model; so does Lightning's classmethod
    again = litrain.load(loaded.checkpoint)
    torch.testing.assert_close(again.predict(raw), probs, atol=0, rtol=0)
    module = TaskModule.load_from_checkpoint(loaded.checkpoint).eval()
    with torch.no_grad():
        outputs = module.task.prediction(module(loaded.preprocess(raw)))
    torch.testing.assert_close(outputs, probs, atol=0, rtol=0)


def test_load_refuses_what_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist: pass a run dir or a checkpoint file"):
        litrain.load(tmp_path / "nope")
    with pytest.raises(ConfigError, match="holds no config.yaml"):
        litrain.load(tmp_path)


def test_predict_uses_forward_of_a_lightning_module_without_predict_step(tmp_path: Path) -> None:
    run = tmp_path / "lm"
    litrain.fit(
        run_dir=run,
        quiet=True,
        **{"model.class_path": "user_modules.DigitsLM", "trainer.max_epochs": 1, "data.test_split": 0.1},
    )
    written = _predictions_csv(run)
    loaded = litrain.load(run)
    assert type(loaded.model).__name__ == "DigitsLM"
    probs = loaded.predict(_raw_test_samples(loaded.config))
    torch.testing.assert_close(probs, written, atol=1e-6, rtol=0)
    assert torch.allclose(written.sum(1), torch.ones(len(written)), atol=1e-4)  # probabilities
