"""checkpoint.filename in both engines: the same files, named by the one template."""

from __future__ import annotations

from pathlib import Path

import litrain

TINY = {
    "trainer.max_epochs": 2,
    "trainer.limit_train_batches": 3,
    "checkpoint.save_top_k": 2,
    "run.name": "digits",
    "checkpoint.filename": "{stage}-epoch={epoch:02d}-{val/acc:.4f}-loss={val/loss:.3f}",
}


def _names(run: Path) -> list[str]:
    return sorted(p.name for p in (run / "checkpoints").glob("*.ckpt"))


def test_both_engines_write_the_same_names(tmp_path: Path) -> None:
    lit = litrain.fit(run_dir=tmp_path / "lightning", quiet=True, **TINY)
    nat = litrain.fit(run_dir=tmp_path / "native", quiet=True, **{**TINY, "run.engine": "native"})
    names = _names(tmp_path / "lightning")
    assert names == _names(tmp_path / "native")
    top_k = [n for n in names if n != "last.ckpt"]
    assert len(top_k) == 2 and all(n.startswith("digits-epoch=0") for n in top_k)
    acc = lit.summary["best_metric"]
    assert Path(lit.best_checkpoint).name.startswith(f"digits-epoch=01-val_acc={acc:.4f}-loss=")
    assert Path(nat.best_checkpoint).name == Path(lit.best_checkpoint).name
