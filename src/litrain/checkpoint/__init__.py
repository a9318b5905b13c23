"""Checkpoints: the atomic store every write goes through (``store``, ``store_dir`` for
sharded dirs), safe loading (``load``), file names (``naming``), the formats (``formats/``),
conversion between them (``convert``) and FSDP consolidation (``fsdp``).

This file only registers the formats, as lazy ``"module:attr"`` strings: importing it costs
no torch, so listing :data:`litrain.registry.FORMATS` stays cheap.
"""

from __future__ import annotations

from litrain.registry import FORMATS

# The formats ``litrain convert --to`` writes, in the order its help and errors list them.
CONVERT_TARGETS = ("native", "lightning", "safetensors")

for _name in CONVERT_TARGETS:
    FORMATS.register(_name, f"litrain.checkpoint.formats.{_name}:save")
