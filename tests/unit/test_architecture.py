"""The layer rules of docs/architecture.md, checked by import-linter with the contracts in
pyproject.toml: a broken rule fails CI here."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports")
    assert exe, "lint-imports (import-linter) is in the dev extra: pip install -e '.[dev]'"
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert (
        f"Contracts: {len(contracts)} kept, 0 broken." in proc.stdout
    )  # each contract of pyproject.toml ran
