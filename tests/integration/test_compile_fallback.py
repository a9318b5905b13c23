"""trainer.compile with a compiler that fails: both engines fall back to eager with one
warning, finish, and end with the weights of an eager run; compile_mode/compile_dynamic reach
torch.compile."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch

import litrain
from helpers import bare_weights

SMALL = {
    "trainer.max_epochs": 1,
    "trainer.limit_train_batches": 4,
    "trainer.limit_val_batches": 2,
    "checkpoint.save_top_k": -1,
}


@pytest.fixture
def failing_compile(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """torch.compile returns a function that raises on its first call, as Inductor does
    without a C++ compiler (CXX=/bin/false)."""
    calls: list[dict[str, Any]] = []

    def fake_compile(fn: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)

        def compiled(*args: Any, **kw: Any) -> Any:
            raise RuntimeError("InductorError: CppCompileError: C++ compile error\nmore lines")

        return compiled

    monkeypatch.setattr(torch, "compile", fake_compile)
    return calls


@pytest.mark.parametrize("engine", ["lightning", "native"])
def test_failing_compile_falls_back_once(tmp_path, engine, failing_compile):
    eager = litrain.fit(run_dir=tmp_path / "eager", quiet=True, **SMALL, **{"run.engine": engine})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = litrain.fit(
            run_dir=tmp_path / "compiled",
            quiet=False,
            **SMALL,
            **{
                "run.engine": engine,
                "trainer.compile": True,
                "trainer.compile_mode": "max-autotune",
                "trainer.compile_dynamic": False,
            },
        )
    fallbacks = [w for w in caught if "torch.compile failed" in str(w.message)]
    assert len(fallbacks) == 1, [str(w.message) for w in fallbacks]
    assert "continuing in eager mode" in str(fallbacks[0].message)
    assert failing_compile == [{"mode": "max-autotune", "dynamic": False}]
    assert compiled.summary["steps"] == eager.summary["steps"] == 4
    got, want = bare_weights(compiled.run_dir), bare_weights(eager.run_dir)
    assert got.keys() == want.keys()  # no _orig_mod. prefix
    for k in want:
        torch.testing.assert_close(got[k], want[k], rtol=0, atol=0)


def test_model_error_after_compiling_is_not_hidden(failing_compile):
    """Once a mode compiled, a later error that is not a compile error is the model's own."""
    from litrain.core.compile import EagerFallback

    model = torch.nn.Linear(3, 2)
    calls = iter([lambda x: x, lambda x: (_ for _ in ()).throw(ValueError("bad shape"))])
    guard = EagerFallback(model, lambda *a: next(calls)(*a))
    model._compiled_call_impl = guard
    model(torch.ones(1, 3))
    with pytest.raises(ValueError, match="bad shape"):
        model(torch.ones(1, 3))
