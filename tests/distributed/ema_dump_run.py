"""``python ema_dump_run.py fit ...``: ``litrain``, with each rank saving the EMA weights it
holds when training ends (``LITRAIN_EMA_DUMP=DIR`` gets ``<engine>-rank<R>.pt``, bare model
keys), in either engine: the native engine takes no Lightning callbacks, so both are patched."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch


def _save(out: Path, engine: str, state: dict[str, torch.Tensor]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    bare = {k.removeprefix("model."): v.detach().cpu().clone() for k, v in state.items()}
    torch.save(bare, out / f"{engine}-rank{os.environ.get('RANK', '0')}.pt")


def _arm(out: Path) -> None:
    from litrain.engines.lightning.callbacks.ema import EMA
    from litrain.engines.native.loop import NativeTrainer

    fit = NativeTrainer.fit

    def native_fit(self: Any) -> Any:
        state = fit(self)
        _save(out, "native", self.ema.state_dict())
        return state

    def on_train_end(self: Any, trainer: Any, pl_module: Any) -> None:
        _save(out, "lightning", self.module.state_dict())

    NativeTrainer.fit = native_fit  # type: ignore[method-assign]
    EMA.on_train_end = on_train_end  # type: ignore[method-assign]


if __name__ == "__main__":
    _arm(Path(os.environ["LITRAIN_EMA_DUMP"]))
    from litrain.cli import main

    main()
