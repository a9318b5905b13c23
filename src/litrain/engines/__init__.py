"""The two engines that run a fit: ``lightning`` (L.Trainer) and ``native`` (a plain PyTorch
loop). They never import each other. This file only registers their names (``run.engine``)
and imports neither."""

from litrain.registry import ENGINES

ENGINES.register("lightning", "litrain.engines.lightning.fit:LightningEngine")
ENGINES.register("native", "litrain.engines.native.fit:NativeEngine")
