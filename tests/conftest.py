import os

import pytest

# Tests never touch the network and never pick up a user's W&B account.
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture()
def tiny(tmp_path):
    """Overrides for a fast digits run in tmp_path: 2 epochs, quiet."""
    return {
        "run_dir": tmp_path / "run",
        "quiet": True,
        "trainer.max_epochs": 2,
    }
