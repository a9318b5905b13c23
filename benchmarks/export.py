"""litrain export on a resnet18 (resnet18_cifar) trained on 32 px digits as RGB: the fp32
ONNX graph's max difference from eager PyTorch, the int8 (ONNX Runtime static QDQ) file's
size ratio, decision agreement and accuracy change, and the latency at batch 1 and 64 of
eager PyTorch, ONNX fp32, ONNX int8 and the AOTInductor .pt2 package, side by side in one run.

Data: sklearn's 8x8 digits upsampled to 32x32 (bilinear), repeated to 3 channels, stored as
uint8 arrays (train/val/test 70/15/15 %); the model trains ``--epochs`` epochs on the CPU.
Every number comes from the export reports (``NAME.report.json``): latency is the median of 5
calls after a warm-up with one intra-op thread per runtime, on this machine as loaded now.

    python benchmarks/export.py                # 2 epochs, onnx + int8 + pt2
    python benchmarks/export.py --no-pt2       # skip the AOTInductor compile (minutes)
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
    args = ap.parse_args()

    import litrain
    from litrain.api import export

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
        for name, fmt, opts in (
            ("onnx", "onnx", {}),
            ("int8", "onnx", {"int8": "ort-static"}),
            *([] if args.no_pt2 else [("pt2", "pt2", {})]),
        ):
            out = root / (f"model.{name}" + (".pt2" if fmt == "pt2" else ".onnx"))
            export("best", run_dir=run, output=out, format=fmt, **opts)
            reports[name] = json.loads(out.with_name(out.name + ".report.json").read_text())

    def row(report: dict, name: str) -> dict:
        return next(r for r in report["artefacts"] if r["name"] == name)

    eager = row(reports["onnx"], "pytorch")
    fp32 = row(reports["onnx"], "onnx")
    int8 = row(reports["int8"], "onnx int8 (ort-static)")
    lines = [("eager", eager), ("onnx fp32", fp32), ("onnx int8", int8)]
    if "pt2" in reports:
        lines.append(("pt2", row(reports["pt2"], "pt2")))
    print(
        f"resnet18_cifar, {args.epochs} epochs on 32 px digits-as-RGB (fit {fit_s:.0f} s); gate data: "
        f"{reports['onnx']['gate_data']['samples']} val samples"
    )
    print(
        "| runtime | size MB | max abs diff vs eager | agreement | val acc | Δacc | bs1 ms | bs64 ms | bs1 vs eager | bs64 vs eager | build s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, r in lines:
        n = r["numbers"]
        lat, base = r["latency_ms"], eager["latency_ms"]
        size = f"{r['size_bytes'] / 1e6:.2f}" if r["size_bytes"] else "-"
        delta = "-" if label == "eager" else f"{r['metric_delta']:+.4f}"
        print(
            f"| {label} | {size} | {n['max_abs_diff']:.2e} | {n['agreement']:.2%} | {n['metrics']['val/acc']:.4f} | "
            f"{delta} | {lat['bs1']:.2f} | {lat['bs64']:.2f} | {lat['bs1'] / base['bs1']:.2f}x | "
            f"{lat['bs64'] / base['bs64']:.2f}x | {r['build_s'] or 0:.1f} |"
        )
    print(f"int8 size ratio (fp32 / int8): {fp32['size_bytes'] / int8['size_bytes']:.2f}x")


if __name__ == "__main__":
    main()
