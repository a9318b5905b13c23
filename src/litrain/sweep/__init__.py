"""``litrain sweep``: an Optuna search over any config keys. Each trial is a normal run in
the sweep's run group (``run/group.py``); the study lives in a journal file in the sweep dir
or in the storage the user names, so several processes (``--workers N``, other machines
with an RDB) share one study and a killed sweep resumes. See docs/sweeps.md."""
