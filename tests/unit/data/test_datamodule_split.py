"""Held-out splits of tiny data sets keep at least one sample."""

from litrain.config import DataConfig
from litrain.data.datamodule import DataModule


def sizes(n, val_split, test_split=0.0):
    dm = DataModule(
        DataConfig(
            source="synthetic",
            shape=[4],
            num_samples=n,
            num_classes=2,
            val_split=val_split,
            test_split=test_split,
            in_memory="false",
        )
    )
    dm.setup()
    return len(dm.train_set), len(dm.val_set), len(dm.test_set)


def test_small_fractions_of_tiny_sets_hold_out_one_sample():
    assert sizes(4, 0.1) == (3, 1, 1)  # no test split: test reports on val
    assert sizes(5, 0.1, 0.1) == (3, 1, 1)


def test_zero_fraction_holds_out_nothing_and_large_sets_round():
    assert sizes(10, 0.0, 0.0)[:2] == (10, 0)
    assert sizes(100, 0.2) == (80, 20, 20)
