"""The console of a Lightning fit: the shared live view (``litrain.run.progress``, which
the native loop uses too) behind Lightning's ProgressBar hooks, and a model summary without
the FLOPs column when Lightning could not count any (no example input, e.g. on CPU)."""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ProgressBar, RichModelSummary

from litrain.run.progress import EpochProgress


class LiveProgress(ProgressBar):
    def __init__(self) -> None:
        super().__init__()
        self.view: EpochProgress | None = None
        self._enabled = True

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    @property
    def is_enabled(self) -> bool:
        return self._enabled

    def _metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        return {k: v for k, v in self.get_metrics(trainer, pl_module).items() if k != "v_num"}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._enabled and trainer.is_global_zero:
            self.view = EpochProgress(trainer.max_epochs)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.view is not None:
            self.view.start_epoch(trainer.current_epoch, trainer.num_training_batches)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.view is not None:
            self.view.advance(batch_idx + 1, lambda: self._metrics(trainer, pl_module))

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.view is not None and not trainer.sanity_checking:
            self.view.start_validation(sum(trainer.num_val_batches))

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.view is not None and not trainer.sanity_checking:
            self.view.advance_validation(batch_idx + 1)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.view is not None and not trainer.sanity_checking:
            self.view.end_validation()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.view is not None:
            self.view.set_metrics(self._metrics(trainer, pl_module))

    def _close(self) -> None:
        if self.view is not None:
            self.view.close()
            self.view = None

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._close()

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        self._close()


class ModelTable(RichModelSummary):
    """RichModelSummary; the FLOPs column and total only where some FLOPs were counted."""

    @staticmethod
    def summarize(
        summary_data: list[tuple[str, list[str]]],
        total_parameters: int,
        trainable_parameters: int,
        model_size: float,
        total_training_modes: dict[str, int],
        total_flops: int,
        **summarize_kwargs: Any,
    ) -> None:
        from rich import get_console
        from rich.table import Table

        if not total_flops:  # Lightning counts FLOPs only with an example input
            summary_data = [col for col in summary_data if col[0] != "FLOPs"]
        table = Table(header_style=summarize_kwargs.get("header_style", "bold magenta"))
        for name, _ in summary_data:
            table.add_column(name, justify="right" if name in ("Params", "FLOPs") else "left")
        for row in zip(*(values for _, values in summary_data), strict=False):
            table.add_row(*row)
        console = get_console()
        console.print(table)
        from lightning.pytorch.utilities.model_summary.model_summary import (
            get_formatted_model_size,
            get_human_readable_count,
        )

        lines = [
            f"Trainable params: {get_human_readable_count(int(trainable_parameters))}",
            f"Total params: {get_human_readable_count(int(total_parameters))} "
            f"({get_formatted_model_size(model_size)} MB)",
        ]
        if total_flops:
            lines.append(f"Total FLOPs: {get_human_readable_count(total_flops)}")
        console.print("  ".join(lines))
