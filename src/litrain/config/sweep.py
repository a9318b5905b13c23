"""The ``sweep:`` section: what ``litrain sweep`` searches (docs/sweeps.md). Pure pydantic;
the keys of the space are checked against the whole schema in ``config.sweep_check``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DIRECTIONS = {"min": "minimize", "minimize": "minimize", "max": "maximize", "maximize": "maximize"}
KINDS = ("log_uniform", "uniform", "int", "choice")


class ParamSpec(BaseModel):
    """One dimension of the space: exactly one of ``log_uniform: [lo, hi]``, ``uniform:
    [lo, hi]``, ``int: [lo, hi]`` (both ends included) or ``choice: [a, b, ...]``."""

    model_config = ConfigDict(extra="forbid")

    log_uniform: tuple[float, float] | None = None
    uniform: tuple[float, float] | None = None
    int: tuple[int, int] | None = None
    choice: list[Any] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ParamSpec:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(KINDS)} (got {', '.join(given) or 'none'})")
        kind = given[0]
        if kind == "choice":
            if not self.choice:
                raise ValueError("choice: [] is an empty range: list one value or more")
            return self
        lo, hi = getattr(self, kind)
        if not lo < hi:
            raise ValueError(
                f"{kind}: [{lo}, {hi}] is an empty range: the first bound must be below the second"
            )
        if kind == "log_uniform" and lo <= 0:
            raise ValueError(f"log_uniform: [{lo}, {hi}] needs bounds above 0")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    @property
    def bounds(self) -> Any:
        return getattr(self, self.kind)

    def edges(self) -> list[Any]:
        """The values the config must accept: both ends of a range, every choice."""
        return list(self.choice) if self.kind == "choice" else list(self.bounds)

    def as_dict(self) -> dict[str, Any]:
        b = self.bounds
        return {self.kind: list(b)}


class SweepConfig(BaseModel):
    """``litrain sweep``'s search: the metric a trial's run logs, its direction, how many
    trials, the sampler, the pruner, the space (dotted config key -> ParamSpec), where the
    study lives."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(description="The metric a trial's run logs, e.g. val/acc.")
    direction: str = Field("maximize", description="maximize|max or minimize|min.")
    trials: int = Field(20, gt=0, description="Trials that end complete or pruned, over every worker.")
    sampler: Literal["tpe", "random", "grid", "cmaes"] = "tpe"
    pruner: Literal["median", "hyperband", "none"] = "median"
    seed: int | None = Field(None, description="The sampler's seed (default run.seed).")
    space: dict[str, ParamSpec] = Field(
        description="Dotted config key -> one of log_uniform/uniform/int/choice."
    )
    storage: str | None = Field(
        None, description="Optuna storage URL (default: a journal file in the sweep dir)."
    )
    study: str | None = Field(None, description="Study name (default: run.name).")

    @field_validator("direction")
    @classmethod
    def _direction(cls, v: str) -> str:
        if v not in DIRECTIONS:
            raise ValueError(f"direction={v!r}: use min or max (minimize, maximize)")
        return DIRECTIONS[v]

    @field_validator("space")
    @classmethod
    def _space(cls, v: dict[str, ParamSpec]) -> dict[str, ParamSpec]:
        if not v:
            raise ValueError(
                "the space is empty: give at least one key, e.g. optim.lr: {log_uniform: [1e-4, 1e-1]}"
            )
        return v

    @model_validator(mode="after")
    def _grid(self) -> SweepConfig:
        if self.sampler == "grid":
            cont = [k for k, p in self.space.items() if p.kind in ("uniform", "log_uniform")]
            if cont:
                raise ValueError(
                    f"sampler=grid needs choice or int ranges; {', '.join(cont)} is continuous: "
                    "list its values with choice"
                )
        return self

    def space_dict(self) -> dict[str, dict[str, Any]]:
        """The space as plain data (stored in the study to refuse a different one)."""
        return {k: p.as_dict() for k, p in sorted(self.space.items())}
