"""Checkpoint formats, one module each: ``native`` (litrain.native/1), ``lightning`` (what
``Trainer.fit(ckpt_path=...)`` resumes from) and ``safetensors`` (weights only). Each module
has ``save(ckpt, out, source)``, registered in :data:`litrain.registry.FORMATS` by
:mod:`litrain.checkpoint`; :mod:`litrain.checkpoint.convert` dispatches between them."""
