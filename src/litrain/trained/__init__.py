"""After fit, one seam for a trained model: :class:`TrainedRun` opens a run dir, a checkpoint or
a run group and gives its config, model card, task and eval-mode model with the right
weights; :class:`Predictor` is what every trained model offers (a TrainedRun now, ensembles and
calibrated models later); :func:`outputs_on` is the one engine-neutral pass over a split.
validate, test, predict, ``litrain.load``, export and ``init_from`` all go through here."""
