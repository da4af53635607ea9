"""The fused polynomial kernels against torch: the seed's cubic fit of sin(x), every way, side by side.

    python bench/poly_fit.py [--sizes 2000 1048576 67108864] [--json PATH] [--png PATH]
    python bench/poly_fit.py --plot bench/results/poly_fit-nvidia-h200.json   # redraw a results file

Variants (each a full fit of ``steps`` gradient-descent steps from the same start, lr = 2e-3 / N so the
dynamics are the seed's at every N): on the CPU the seed's numpy program, torch eager, tkern op by op,
tkern poly_loss_grad per step and tkern poly_fit; on a GPU torch eager with the seed's .item() each step
and without, torch.compile of the step, tkern op by op, tkern poly_loss_grad per step and tkern poly_fit.
Sizes above 2**20 run on the GPU only. Before timing, every variant's final coefficients are checked
against the first variant's of that device (rtol 2e-3); a variant that raises is recorded and left out.

Reported per row: time per step (median of the repeats of the whole fit, wall clock, synchronised),
speed-up over torch eager with .item() on the same device, and for the variants that read the data at
every step the bytes a step must read (8 per point, float32 x and y) over the time per step, also as %
of the copy bandwidth measured first. On a GPU the fused pass is also timed alone with
triton.testing.do_bench (median, L2 flushed) against the target of 85% of copy bandwidth at 2**26.
Rows are written to the JSON file as they come, so a run cut short keeps what it measured.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

import tkern

STEPS = {2000: 2000, 1 << 20: 20, 1 << 26: 10}
CPU_LIMIT = 1 << 20
RTOL = 2e-3


# ----- the fit, every way: run(x, y, problem) returns the final coefficients as floats -----


def seed_numpy(x, y, problem: dict) -> list:
    """The seed's numpy program (float64 arrays, the polynomial written out, the loss every step)."""
    a, b, c, d = problem["start"]
    lr = problem["lr"]
    for _ in range(problem["steps"]):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = np.square(y_pred - y).sum()  # noqa: F841 (the seed computes it every step)
        grad_y_pred = 2.0 * (y_pred - y)
        a -= lr * grad_y_pred.sum()
        b -= lr * (grad_y_pred * x).sum()
        c -= lr * (grad_y_pred * x ** 2).sum()
        d -= lr * (grad_y_pred * x ** 3).sum()
    return [float(v) for v in (a, b, c, d)]


def seed_gradients(x, y, a, b, c, d) -> tuple:
    """One step of the seed's torch program, op by op: (loss, gradients of a, b, c, d)."""
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    grad_y_pred = 2.0 * (y_pred - y)
    return loss, (grad_y_pred.sum(), (grad_y_pred * x).sum(), (grad_y_pred * x ** 2).sum(),
                  (grad_y_pred * x ** 3).sum())


def seed_loop(lib, item: bool = True):
    """The seed's torch program on ``lib`` (torch or tkern): op by op, .item() each step when ``item``."""
    def run(x, y, problem: dict) -> list:
        coeffs = [lib.tensor(v, device=x.device, dtype=lib.float32) for v in problem["start"]]
        lr = problem["lr"]
        for _ in range(problem["steps"]):
            loss, grads = seed_gradients(x, y, *coeffs)
            if item:
                loss.item()
            for coeff, grad in zip(coeffs, grads):
                coeff -= lr * grad
        return [p.item() for p in coeffs]
    return run


def compiled_step():
    """torch.compile of one step of the seed's loop (the loss stays on the device)."""
    @torch.compile(dynamic=True)
    def step(x, y, coeffs, lr: float):
        y_pred = coeffs[0] + coeffs[1] * x + coeffs[2] * x ** 2 + coeffs[3] * x ** 3
        loss = (y_pred - y).pow(2).sum()
        grad_y_pred = 2.0 * (y_pred - y)
        grad = torch.stack([grad_y_pred.sum(), (grad_y_pred * x).sum(), (grad_y_pred * x ** 2).sum(),
                            (grad_y_pred * x ** 3).sum()])
        return loss, coeffs - lr * grad

    def run(x, y, problem: dict) -> list:
        coeffs = torch.tensor(problem["start"], device=x.device, dtype=torch.float32)
        for _ in range(problem["steps"]):
            _, coeffs = step(x, y, coeffs, problem["lr"])
        return coeffs.tolist()
    return run


def fused_steps(x, y, problem: dict) -> list:
    """tkern.fused.poly_loss_grad each step, then one update."""
    coeffs = tkern.tensor(problem["start"], device=x.device, dtype=tkern.float32)
    for _ in range(problem["steps"]):
        _, grad = tkern.fused.poly_loss_grad(x, y, coeffs)
        coeffs -= problem["lr"] * grad
    return coeffs.tolist()


def fused_fit(x, y, problem: dict) -> list:
    """tkern.fused.poly_fit: the whole fit in one call."""
    coeffs, _ = tkern.fused.poly_fit(x, y, tkern.tensor(problem["start"], device=x.device), problem["lr"],
                                     problem["steps"])
    return coeffs.tolist()


TORCH_EAGER = "torch eager, .item() each step"


def seed_problem(n: int, steps: int) -> dict:
    """The seed's fit at n points: lr = 2e-3 / n keeps its dynamics at every n."""
    return {"n": n, "steps": steps, "lr": 2e-3 / n, "start": [0.3, -0.4, 0.2, 0.05]}


def coefficients_agree(final: list, expected: list) -> bool:
    """Two fits' final coefficients agree to RTOL (absolutely, to a hundredth of that of the largest)."""
    scale = max(abs(v) for v in expected)
    return bool(np.allclose(final, expected, rtol=RTOL, atol=RTOL * 1e-2 * scale))


def variants(torch_gpu: bool, tkern_gpu: bool, compile_step: bool) -> list:
    """(name, device, library, reads the data every step, run) in the order they are timed: torch eager
    with .item() first on each device, the reference of its speed-ups and coefficient checks."""
    rows = [(TORCH_EAGER, "cpu", "torch", True, seed_loop(torch)),
            ("numpy seed program", "cpu", "numpy", True, seed_numpy),
            ("tkern op by op", "cpu", "tkern", True, seed_loop(tkern)),
            ("tkern poly_loss_grad per step", "cpu", "tkern", True, fused_steps),
            ("tkern poly_fit", "cpu", "tkern", False, fused_fit)]
    if torch_gpu:
        rows += [(TORCH_EAGER, "cuda", "torch", True, seed_loop(torch)),
                 ("torch eager", "cuda", "torch", True, seed_loop(torch, item=False))]
        if compile_step:
            rows.append(("torch.compile step", "cuda", "torch", True, compiled_step()))
    if tkern_gpu:
        rows += [("tkern op by op", "cuda", "tkern", True, seed_loop(tkern)),
                 ("tkern poly_loss_grad per step", "cuda", "tkern", True, fused_steps),
                 ("tkern poly_fit", "cuda", "tkern", False, fused_fit)]
    return rows


def points(library: str, device: str, n: int) -> tuple:
    """The seed's x = linspace(-pi, pi, n) and y = sin(x): float64 numpy as the seed's numpy program has
    them, float32 tensors otherwise."""
    if library == "numpy":
        x = np.linspace(-math.pi, math.pi, n)
        return x, np.sin(x)
    lib = torch if library == "torch" else tkern
    x = lib.linspace(-math.pi, math.pi, n, device=device, dtype=lib.float32)
    return x, lib.sin(x)


# ----- measuring -----


def synchronize(device: str) -> None:
    if device == "cuda":
        tkern.cuda.synchronize()
        if torch.cuda.is_available():
            torch.cuda.synchronize()


def median_seconds(run, device: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        run()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def copy_gbps(device: str, real_gpu: bool) -> float:
    """The copy bandwidth a step's reads are held against: read + write bytes of a large copy."""
    if device == "cuda" and real_gpu:
        import triton.testing
        src = torch.empty(1 << 28, dtype=torch.uint8, device="cuda")
        dst = torch.empty_like(src)
        return 2 * src.numel() / triton.testing.do_bench(lambda: dst.copy_(src), return_mode="median") / 1e6
    if device == "cuda":  # the interpreter's 'cuda' is host memory
        src = tkern.empty(1 << 24, dtype=tkern.uint8, device="cuda")
        dst = tkern.empty_like(src)
        return 2 * src.numel() / median_seconds(lambda: dst.copy_(src), "cuda", 5) / 1e9
    src = np.ones(1 << 24, np.float32)
    dst = np.empty_like(src)
    return 2 * src.nbytes / median_seconds(lambda: np.copyto(dst, src), "cpu", 5) / 1e9


def kernel_alone_gbps(n: int) -> float:
    """GB/s of tkern.fused.poly_loss_grad alone at n float32 points (triton.testing.do_bench, median)."""
    import triton.testing
    x = tkern.linspace(-math.pi, math.pi, n, device="cuda")
    y, coeffs = tkern.sin(x), tkern.tensor([0.1, 0.8, -0.01, -0.09], device="cuda")
    ms = triton.testing.do_bench(lambda: tkern.fused.poly_loss_grad(x, y, coeffs), return_mode="median")
    return 8 * n / ms / 1e6


# ----- reporting -----


def targets(record: dict) -> list:
    """The issue's targets that this run's rows can speak to."""
    rows = {(r["device"], r["n"], r["variant"]): r for r in record["rows"]}
    found = []

    def ratio(device, n, slow, fast):
        if (device, n, slow) in rows and (device, n, fast) in rows:
            return rows[device, n, slow]["us_per_step"] / rows[device, n, fast]["us_per_step"]
        return None

    checks = [("cpu: tkern poly_fit against the seed's numpy program at N = 2000, >= 100x",
               ratio("cpu", 2000, "numpy seed program", "tkern poly_fit"), lambda v: v >= 100, "{:.0f}x"),
              ("cpu: tkern poly_loss_grad per step against torch eager at N = 2**20, >= 1x",
               ratio("cpu", 1 << 20, TORCH_EAGER, "tkern poly_loss_grad per step"), lambda v: v >= 1, "{:.2f}x"),
              ("cuda: tkern poly_fit against torch eager with .item() at N = 2000, >= 500x",
               ratio("cuda", 2000, TORCH_EAGER, "tkern poly_fit"), lambda v: v >= 500, "{:.0f}x")]
    fit = rows.get(("cuda", 2000, "tkern poly_fit"))
    if fit is not None and fit["steps"] == 2000 and not record["triton_interpreter"]:
        checks.append(("cuda: tkern poly_fit, 2000 steps at N = 2000, < 1 ms", fit["us_per_step"] * 2000 / 1e3,
                       lambda v: v < 1, "{:.3f} ms"))
    for alone in record["kernel_alone"]:
        if alone["n"] == 1 << 26:
            checks.append(("cuda: poly_loss_grad alone at N = 2**26 float32, >= 85% of copy bandwidth",
                           alone["percent_of_copy"], lambda v: v >= 85, "{:.1f}%"))
    for what, value, met, shown in checks:
        if value is not None:
            found.append({"what": what, "measured": shown.format(value), "met": bool(met(value))})
    return found


def _device_name(real_gpu: bool) -> str:
    if real_gpu:
        name = torch.cuda.get_device_name()
    elif tkern.cuda.is_available():
        name = "triton-interpreter"
    else:
        name = "cpu-" + platform.machine()
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _processor() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()


def plot(record: dict, path: str) -> None:
    """Time per step against N, one line per (device, variant), log-log."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no {path} (redraw later with --plot)", file=sys.stderr)
        return
    figure, axes = plt.subplots(figsize=(8, 5))
    lines: dict = {}
    for row in record["rows"]:
        lines.setdefault(f"{row['device']}: {row['variant']}", []).append((row["n"], row["us_per_step"]))
    for label, points in lines.items():
        points.sort()
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                  linestyle="-" if label.startswith("cuda") else "--", label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("points N")
    axes.set_ylabel("time per step (us)")
    axes.set_title(f"cubic fit of sin(x): {record['device_name']} ({record['commit']})")
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=sorted(STEPS))
    parser.add_argument("--steps", type=int, help="steps for every size (default: 2000 at N = 2000, fewer above)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="results file (default: bench/results/poly_fit-<device name>.json)")
    parser.add_argument("--png", help="plot file (default: the results file's name with .png)")
    parser.add_argument("--no-compile", action="store_true", help="leave out the torch.compile variant")
    parser.add_argument("--plot", metavar="JSON", help="only draw the plot of an existing results file")
    args = parser.parse_args()
    if args.plot:
        with open(args.plot) as f:
            plot(json.load(f), args.png or args.plot.removesuffix(".json") + ".png")
        return
    real_gpu = torch.cuda.is_available()
    tkern_gpu = tkern.cuda.is_available()
    name = _device_name(real_gpu)
    path = args.json or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", f"poly_fit-{name}.json")
    record = {"bench": "poly_fit", "commit": _commit(), "device_name": name, "host": _processor(),
              "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
              "numpy": np.__version__, "python": platform.python_version(),
              "triton_interpreter": os.environ.get("TRITON_INTERPRET") == "1", "copy_gbps": {}, "rows": [],
              "kernel_alone": [], "mismatches": [], "failures": []}
    try:
        import triton
        record["triton"] = triton.__version__
    except ImportError:
        pass

    def save() -> None:
        with open(path, "w") as f:
            json.dump(record, f, indent=1)
            f.write("\n")

    rows = variants(real_gpu, tkern_gpu, not args.no_compile)
    for device in sorted({row[1] for row in rows}):
        record["copy_gbps"][device] = round(copy_gbps(device, real_gpu), 1)
    print("copy bandwidth: " + ", ".join(f"{d} {g:.1f} GB/s" for d, g in record["copy_gbps"].items()))
    print(f"{'device':6s} {'N':>9s} {'steps':>5s}  {'variant':32s} {'us/step':>11s} {'speed-up':>9s} "
          f"{'GB/s':>8s} {'% copy':>7s}")
    for n in args.sizes:
        steps = args.steps or STEPS.get(n, 10)
        fit = seed_problem(n, steps)
        chosen = [row for row in rows if row[1] == "cuda" or n <= CPU_LIMIT]
        data = {(device, library): points(library, device, n) for _, device, library, _, _ in chosen}
        def failed(variant: str, device: str, error: Exception) -> None:
            # one failing variant must not cost the others' figures
            record["failures"].append({"device": device, "n": n, "variant": variant, "error": repr(error)})
            save()
            print(f"FAILED {device} N={n} {variant}: {error!r}", file=sys.stderr)

        if real_gpu and tkern_gpu:  # the headline figure first, so that a cut-short run still has it
            try:
                gbps = kernel_alone_gbps(n)
            except Exception as error:
                failed("poly_loss_grad alone", "cuda", error)
            else:
                record["kernel_alone"].append({"n": n, "gbps": round(gbps, 1), "percent_of_copy": round(
                    100 * gbps / record["copy_gbps"]["cuda"], 1)})
                save()
                print(f"cuda   {n:9d}  poly_loss_grad alone (do_bench): {gbps:.1f} GB/s, "
                      f"{100 * gbps / record['copy_gbps']['cuda']:.1f}% of copy (target at 2**26: 85%)", flush=True)
        references: dict = {}
        working = []
        for variant, device, library, per_step, run in chosen:
            try:
                final = run(*data[device, library], fit)  # the warm-up (compilations) is the agreement check
            except Exception as error:
                failed(variant, device, error)
                continue
            working.append((variant, device, library, per_step, run))
            expected = references.setdefault(device, final)
            if not coefficients_agree(final, expected):
                record["mismatches"].append({"device": device, "n": n, "variant": variant, "final": final,
                                             "expected": expected})
                print(f"MISMATCH {device} N={n} {variant}: {final} against {expected}", file=sys.stderr)
        baselines: dict = {}
        for variant, device, library, per_step, run in working:
            x, y = data[device, library]
            seconds = median_seconds(lambda: run(x, y, fit), device, args.repeats)
            us = seconds / steps * 1e6
            if variant == TORCH_EAGER:
                baselines[device] = us
            gbps = 8 * n / (us * 1e3) if per_step else None
            row = {"device": device, "n": n, "steps": steps, "variant": variant, "us_per_step": round(us, 3),
                   "speedup_over_torch_eager": round(baselines[device] / us, 2) if device in baselines else None,
                   "gbps": None if gbps is None else round(gbps, 2),
                   "percent_of_copy": None if gbps is None else round(100 * gbps / record["copy_gbps"][device], 1)}
            record["rows"].append(row)
            save()
            speedup = row["speedup_over_torch_eager"]
            print(f"{device:6s} {n:9d} {steps:5d}  {variant:32s} {us:11.2f} "
                  f"{'-' if speedup is None else f'{speedup:.1f}x':>9s} {'-' if gbps is None else f'{gbps:.2f}':>8s} "
                  f"{'-' if gbps is None else str(row['percent_of_copy']) + '%':>7s}", flush=True)
    record["targets"] = targets(record)
    for target in record["targets"]:
        print(f"target: {target['what']}: {target['measured']} ({'met' if target['met'] else 'NOT met'})")
    save()
    print(f"wrote {path}")
    plot(record, args.png or path.removesuffix(".json") + ".png")
    if record["mismatches"] or record["failures"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
