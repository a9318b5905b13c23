"""The DataLoaders Trainer.fit/validate/test get from a litrain DataModule (or the user's
LightningDataModule, passed as is)."""

from __future__ import annotations

from typing import Any

from litrain.data.datamodule import DataModule


def trainer_loaders(dm: Any, stage: str, trainer: Any = None) -> dict[str, Any]:
    """Keyword arguments for ``trainer.fit`` (stage ``fit``), ``validate`` or ``test``."""
    if not isinstance(dm, DataModule):
        return {"datamodule": dm}
    if trainer is not None and trainer.world_size > 1:
        # Each rank reads its own share: evaluation without padding (every sample scored
        # once), training in the 1-process order (see data/sharding.py).
        from litrain.data.sharding import shard_loader

        seed = dm.seed
        if stage == "fit":
            return {
                "train_dataloaders": shard_loader(dm.train_dataloader(), True, seed),
                "val_dataloaders": shard_loader(dm.val_dataloader(), False, seed),
            }
        loader = dm.val_dataloader() if stage == "validate" else dm.test_dataloader()
        return {"dataloaders": shard_loader(loader, False, seed)}
    if stage == "fit":
        return {"train_dataloaders": dm.train_dataloader(), "val_dataloaders": dm.val_dataloader()}
    loader = dm.val_dataloader() if stage == "validate" else dm.test_dataloader()
    return {"dataloaders": loader}
