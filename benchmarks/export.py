"""litrain export on a resnet18 (resnet18_cifar) trained on 32 px digits as RGB: the fp32
ONNX graph's max difference from eager PyTorch, the int8 (ONNX Runtime static QDQ) file's
size ratio, decision agreement and accuracy change, the same for torchao's pt2e int8 (an
ExportedProgram .pt2), and the latency at batch 1 and 64 of eager PyTorch, ONNX fp32, ONNX
int8, the AOTInductor .pt2 package and the torchao int8 program, side by side in one run.

Data: sklearn's 8x8 digits upsampled to 32x32 (bilinear), repeated to 3 channels, stored as
uint8 arrays (train/val/test 70/15/15 %); the model trains ``--epochs`` epochs on the CPU.
Every number comes from the export reports (``NAME.report.json``): latency is the median of 5
calls after a warm-up with one intra-op thread per runtime, on this machine as loaded now.

    python benchmarks/export.py                # 2 epochs, onnx + int8 + pt2 + torchao
    python benchmarks/export.py --no-pt2       # skip the AOTInductor compile (minutes)
    python benchmarks/export.py --epochs 1 --no-pt2 --only onnx,int8,torchao
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def digits_rgb(root: Path) -> None:
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32)[:, None] / 16.0
    x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
    x = (x.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    y = d.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(y))
    a, b = int(0.7 * len(y)), int(0.85 * len(y))
    for name, idx in (("train", order[:a]), ("val", order[a:b]), ("test", order[b:])):
        np.savez(root / f"{name}.npz", x=x[idx], y=y[idx])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--no-pt2", action="store_true")
    ap.add_argument("--only", default="onnx,int8,pt2,torchao", help="artefacts to build, comma-separated")
    args = ap.parse_args()

    import litrain
    from litrain.api import export
    from litrain.export.gate import GateFailed

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        digits_rgb(root / "data")
        run = root / "run"
        t0 = time.perf_counter()
        litrain.fit(
            run_dir=run,
            quiet=True,
            **{
                "data.source": "arrays",
                "data.root": str(root / "data"),
                "data.batch_size": 64,
                "model.name": "resnet18_cifar",
                "trainer.max_epochs": args.epochs,
                "trainer.accelerator": "cpu",
            },
        )
        fit_s = time.perf_counter() - t0
        reports = {}
        wanted = set(args.only.split(",")) - ({"pt2"} if args.no_pt2 else set())
        for name, fmt, opts in (
            ("onnx", "onnx", {}),
            ("int8", "onnx", {"int8": "ort-static"}),
            ("pt2", "pt2", {}),
            ("torchao", "pt2", {"int8": "torchao"}),
        ):
            if name not in wanted:
                continue
            out = root / (f"model.{name}" + (".pt2" if fmt == "pt2" else ".onnx"))
            try:  # a gate failure is a result here: its artefact is kept under a FAILED name
                written = export("best", run_dir=run, output=out, format=fmt, keep_failed=True, **opts)
            except GateFailed:
                written = out.with_name(out.name.removesuffix(out.suffix) + ".FAILED" + out.suffix)
            reports[name] = json.loads(written.with_name(written.name + ".report.json").read_text())

    def row(report: dict, name: str) -> dict:
        return next(r for r in report["artefacts"] if r["name"] == name)

    first = next(iter(reports.values()))
    eager = row(first, "pytorch")  # each report measures eager again: the first one's is shown
    names = {"onnx": "onnx", "int8": "onnx int8 (ort-static)", "pt2": "pt2", "torchao": "pt2 int8 (torchao)"}
    labels = {"onnx": "onnx fp32", "int8": "onnx int8", "pt2": "pt2", "torchao": "torchao int8 (pt2e)"}
    lines = [("eager", eager)] + [(labels[k], row(reports[k], names[k])) for k in names if k in reports]
    print(
        f"resnet18_cifar, {args.epochs} epochs on 32 px digits-as-RGB (fit {fit_s:.0f} s); gate data: "
        f"{first['gate_data']['samples']} val samples"
    )
    print(
        "| runtime | size MB | max abs diff vs eager | agreement | val acc | Δacc | bs1 ms | bs64 ms | bs1 vs eager | bs64 vs eager | build s | gate |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, r in lines:
        n = r["numbers"]
        lat, base = r["latency_ms"], eager["latency_ms"]
        size = f"{r['size_bytes'] / 1e6:.2f}" if r["size_bytes"] else "-"
        delta = "-" if label == "eager" else f"{r['metric_delta']:+.4f}"
        print(
            f"| {label} | {size} | {n['max_abs_diff']:.2e} | {n['agreement']:.2%} | {n['metrics']['val/acc']:.4f} | "
            f"{delta} | {lat['bs1']:.2f} | {lat['bs64']:.2f} | {lat['bs1'] / base['bs1']:.2f}x | "
            f"{lat['bs64'] / base['bs64']:.2f}x | {r['build_s'] or 0:.1f} | "
            f"{'-' if label == 'eager' else ('pass' if r['passed'] else 'FAILED')} |"
        )
    rows = dict(lines)
    fp32 = rows.get("onnx fp32") or rows.get("pt2")
    for label in ("onnx int8", "torchao int8 (pt2e)"):
        if fp32 is not None and label in rows:
            print(f"{label} size ratio (fp32 / int8): {fp32['size_bytes'] / rows[label]['size_bytes']:.2f}x")


if __name__ == "__main__":
    main()
