"""The MLflow sender without a server: batches of at most 1000 values in order, one warning
when sends start failing, everything kept in the spool and replayed once sends work again."""

from __future__ import annotations

import json

from litrain.run.loggers.mlflow_queue import BATCH, Sender, Spool


class Target:
    """A send function that fails while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.batches: list[list[tuple]] = []

    def __call__(self, values: list[tuple]) -> None:
        if self.down:
            raise ConnectionError("Connection refused")
        self.batches.append(list(values))


def _values(start: int, n: int) -> list[tuple]:
    return [("train/loss", float(i), 1000 + i, i) for i in range(start, start + n)]


def test_async_sender_batches_in_order(tmp_path):
    target, warnings = Target(), []
    sender = Sender(target, Spool(tmp_path / "spool.jsonl"), warnings.append)
    for i in range(2500):
        sender.put(_values(i, 1))
    sender.close()
    sent = [v for b in target.batches for v in b]
    assert sent == _values(0, 2500)
    assert max(len(b) for b in target.batches) <= BATCH
    assert warnings == [] and not (tmp_path / "spool.jsonl").exists()


def test_a_failing_server_costs_one_warning_and_the_spool_replays(tmp_path):
    target, warnings = Target(), []
    spool = Spool(tmp_path / "spool.jsonl")
    sender = Sender(target, spool, warnings.append, asynchronous=False, retry_s=3600)
    sender.put(_values(0, 3))
    target.down = True
    for i in range(3, 10):
        sender.put(_values(i, 1))
    assert len(warnings) == 1 and "spool.jsonl" in warnings[0]
    spooled = [tuple(v) for line in spool.path.read_text().splitlines() for v in json.loads(line)]
    assert spooled == _values(3, 7)  # timestamps and steps kept
    target.down = False
    sender.close()  # the server is back: close replays
    assert [v for b in target.batches for v in b] == _values(0, 10)
    assert not spool.path.exists()


def test_close_with_the_server_still_away_keeps_the_spool(tmp_path):
    target, warnings = Target(), []
    spool = Spool(tmp_path / "spool.jsonl")
    target.down = True
    sender = Sender(target, spool, warnings.append, retry_s=0)
    sender.put(_values(0, 5))
    sender.close()
    assert spool.count() == 5 and len(warnings) == 1
    target.down = False
    spool.replay(target)
    assert [v for b in target.batches for v in b] == _values(0, 5) and not spool.path.exists()


def test_offline_sender_only_spools(tmp_path):
    warnings: list[str] = []
    spool = Spool(tmp_path / "spool.jsonl")
    sender = Sender(None, spool, warnings.append)
    sender.put(_values(0, 4))
    sender.close()
    assert spool.count() == 4 and warnings == []
