"""data.num_workers does nothing while batches are served from memory: one warning says so
and how to use workers (data.in_memory false); with in_memory false the workers are used."""

from __future__ import annotations

import warnings

import pytest
from torch.utils.data import DataLoader

from litrain.config import DataConfig
from litrain.data.datamodule import DataModule

SMALL = {"source": "synthetic", "shape": [4], "num_samples": 40, "batch_size": 8}


def _loaders(**kw) -> tuple[list[warnings.WarningMessage], list]:
    dm = DataModule(DataConfig(**{**SMALL, **kw}))
    dm.setup("fit")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaders = [dm.train_dataloader(), dm.val_dataloader(), dm.train_dataloader()]
    return [w for w in caught if "num_workers" in str(w.message)], loaders


@pytest.mark.parametrize("in_memory", ["auto", "true"])
def test_unused_workers_are_named_once(in_memory):
    notes, loaders = _loaders(num_workers=2, in_memory=in_memory)
    assert not any(isinstance(x, DataLoader) for x in loaders)  # served from memory
    assert len(notes) == 1  # once for the data module, not per loader
    msg = str(notes[0].message)
    assert "data.num_workers=2 is unused" in msg and "--data.in_memory false" in msg
    assert f"data.in_memory={in_memory}" in msg


def test_no_note_without_workers_or_with_a_dataloader():
    assert _loaders(num_workers=0)[0] == []
    notes, loaders = _loaders(num_workers=2, in_memory="false")
    assert notes == [] and loaders[0].num_workers == 2
