"""The benchmark suite (python -m bench) and the GPU session script run end to end without a GPU.

The end-to-end tests start child processes with TRITON_INTERPRET=1 (tiny sizes, every row), so they
test the same thing in both CI runs (~45 s each on a 2-core machine).
"""
import json
import math
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import readme  # noqa: E402
from bench.results import ResultsFile, dumps  # noqa: E402

# issue 13's fixed row names, in the suite's priority order
FIXED_ROWS = [
    "add_f32", "add_bcast_f32", "add_transposed_f32", "add_odd_f32", "tanh_f32", "tanh_bf16",
    "sum_all_f32", "sum_rows_f32", "sum_cols_f32", "max_dim_f32", "small_op_us", "poly_step_f32",
    "poly_fit_2000", "mm_bf16_4096", "mm_bf16_8192", "mm_wgrad_bf16", "mm_odd_bf16", "mm_f16_4096", "bmm_f16",
    "mm_tf32_4096", "mm_f32_4096", "adam_step", "two_layer_seed",
]
ROW_KEYS = {"name", "shape", "dtype", "tkern_ms", "torch_ms", "speedup", "achieved", "pct_of_peak", "target"}

def _interpreter_env() -> dict:
    return {**os.environ, "TRITON_INTERPRET": "1"}


def _bench(*arguments: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *arguments], cwd=ROOT, env=_interpreter_env(),
                          capture_output=True, text=True, timeout=timeout)


def _check_measured_row(row: dict) -> None:
    assert ROW_KEYS <= row.keys() and "error" not in row, row
    assert row["tkern_ms"] > 0 and row["torch_ms"] > 0
    assert math.isclose(row["speedup"], row["torch_ms"] / row["tkern_ms"], rel_tol=1e-4)


def test_every_row_runs_checked_under_the_interpreter(tmp_path):
    results = tmp_path / "results.json"
    out = _bench("--json", str(results), "--png", str(tmp_path))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    record = json.loads(results.read_text())
    assert record["device"] == "interpreter" and record["settings"]["interpreter"]
    assert {"date", "commit", "versions"} <= record.keys() and record["commit"]
    assert record["peak"]["copy_GBps"] > 0 and record["peak"]["bf16_TFLOPs"] > 0
    assert [row["name"] for row in record["rows"]] == FIXED_ROWS
    for row in record["rows"]:
        _check_measured_row(row)
    by_name = {row["name"]: row for row in record["rows"]}
    assert by_name["add_odd_f32"]["shape"] == [[(1 << 12) + 3]] * 2 and by_name["add_odd_f32"]["storage_offset"] == 1
    assert by_name["add_f32"]["unit"] == "GB/s" and by_name["mm_bf16_4096"]["unit"] == "TFLOP/s"
    assert by_name["poly_fit_2000"]["target"] == {"speedup": 500.0}
    assert by_name["add_f32"]["target"] == {"speedup": 1.0, "pct_of_peak": 90}
    assert by_name["mm_f32_4096"]["precision"] == "ieee" and by_name["mm_tf32_4096"]["precision"] == "tf32"
    for sweep in ("add_f32", "mm_bf16"):
        points = record["sweeps"][sweep]["points"]
        assert len(points) == 2 and all("error" not in p and p["achieved"] > 0 for p in points)
        assert (tmp_path / f"interpreter-{sweep}.png").stat().st_size > 5000
    assert record["not_run"] == []


def test_a_killed_run_keeps_every_finished_row(tmp_path):
    results = tmp_path / "results.json"
    with open(tmp_path / "stderr.txt", "w") as stderr:
        child = subprocess.Popen([sys.executable, "-m", "bench", "--json", str(results), "--only",
                                  "elementwise,reductions"], cwd=ROOT, env=_interpreter_env(),
                                 stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 120
        rows: list = []
        while time.monotonic() < deadline and child.poll() is None and len(rows) < 2:
            if results.exists():
                rows = json.loads(results.read_text())["rows"]  # never half-written: each write is atomic
            time.sleep(0.02)
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL, (tmp_path / "stderr.txt").read_text()[-3000:]
    record = json.loads(results.read_text())
    names = [row["name"] for row in record["rows"]]
    assert 2 <= len(names) < 10 and names == FIXED_ROWS[:len(names)]
    for row in record["rows"]:
        _check_measured_row(row)


def test_budget_zero_records_the_rows_it_did_not_start(tmp_path):
    results = tmp_path / "results.json"
    out = _bench("--budget", "0", "--only", "add_f32,add_f32_sweep", "--json", str(results))
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads(results.read_text())
    assert record["rows"] == [] and record["peak"]["copy_GBps"] > 0
    assert record["not_run"] == ["add_f32", "add_f32_sweep:1024", "add_f32_sweep:4096"]


def test_gpu_session_dry_run(tmp_path):
    files = ["tests/test_creation.py", "tests/test_printing.py"]
    env = {**os.environ, "OUT": str(tmp_path / "out"), "PYTHON": sys.executable, "TEST_FILES": " ".join(files),
           "BENCH_ARGS": "--only add_f32,small_op_us"}
    env.pop("TRITON_INTERPRET", None)  # the script sets it itself in a dry run
    out = subprocess.run(["bash", str(ROOT / "bench" / "gpu_session.sh"), "--dry-run"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    produced = tmp_path / "out"
    assert "dry run" in (produced / "environment.txt").read_text()
    record = json.loads((produced / "bench.json").read_text())
    assert [row["name"] for row in record["rows"]] == ["add_f32", "small_op_us"]
    summary = (produced / "pytest_summary.txt").read_text().splitlines()
    assert sorted(line.split(":")[0] for line in summary) == files
    assert all("collected" in line for line in summary)
    assert all((produced / f"pytest_{pathlib.Path(f).stem}.log").exists() for f in files)


# ----- in process: cheap, both CI runs -----


SYNTHETIC = {
    "device": "NVIDIA H200", "date": "2026-12-06T10:00:00+00:00", "commit": "abc1234",
    "versions": {"torch": "2.11.0", "triton": "3.6.0"}, "peak": {"copy_GBps": 4000.0, "bf16_TFLOPs": 700.0},
    "rows": [
        {"name": "add_f32", "shape": [[67108864], [67108864]], "dtype": "float32", "tkern_ms": 0.25,
         "torch_ms": 0.24, "speedup": 0.96, "achieved": 3221.2, "unit": "GB/s", "pct_of_peak": 80.5,
         "target": {"speedup": 1.0, "pct_of_peak": 90}, "met": False},
        {"name": "mm_odd_bf16", "shape": [[4097, 4093], [4093, 4095]], "dtype": "bfloat16", "tkern_ms": None,
         "torch_ms": None, "speedup": None, "achieved": None, "pct_of_peak": None, "target": {"speedup": 0.9},
         "error": "AssertionError: differs | from torch"},
    ],
    "not_run": ["two_layer_seed"],
}


def test_readme_section_renders_a_table_from_results():
    body = readme.render(SYNTHETIC)
    lines = body.splitlines()
    assert "NVIDIA H200" in lines[0] and "4000 GB/s" in lines[0] and "700 TFLOP/s" in lines[0]
    assert "| row | shape | dtype | tkern ms | torch ms | speedup |" in body
    assert "| add_f32 | 67108864, 67108864 | float32 | 0.25 | 0.24 | 0.96 | 3221 GB/s | 80.5 | " \
           ">= 1x, >= 90% of peak | no |" in lines
    odd = next(line for line in lines if line.startswith("| mm_odd_bf16 "))
    assert "failed: AssertionError: differs / from torch" in odd and odd.count("|") == 11
    assert "Not run (the time budget was spent): two_layer_seed." in body

    text = f"# title\n\n{readme.START}\nold numbers\n{readme.END}\nafter\n"
    replaced = readme.replace_section(text, body)
    assert "old numbers" not in replaced and body in replaced and replaced.endswith(f"{readme.END}\nafter\n")
    with pytest.raises(ValueError):
        readme.replace_section("no markers", body)


def test_readme_picks_the_newest_gpu_results_and_never_an_interpreter_run(tmp_path):
    (tmp_path / "old.json").write_text(json.dumps({**SYNTHETIC, "date": "2026-12-01T00:00:00+00:00"}))
    (tmp_path / "new.json").write_text(json.dumps(SYNTHETIC))
    (tmp_path / "interpreter.json").write_text(json.dumps({**SYNTHETIC, "device": "interpreter",
                                                           "date": "2027-01-01T00:00:00+00:00"}))
    (tmp_path / "other.json").write_text(json.dumps({"bench": "poly_fit", "rows": []}))
    assert readme.newest_results(tmp_path)["date"] == SYNTHETIC["date"]
    assert readme.newest_results(tmp_path / "missing") is None


def test_results_file_is_rewritten_whole_after_each_row(tmp_path):
    path = tmp_path / "deep" / "results.json"
    results = ResultsFile(path, "interpreter", "abc1234", {"torch": "x"}, {"quick": True})
    results.save()
    assert json.loads(path.read_text())["rows"] == []
    results.add_row(SYNTHETIC["rows"][0])
    results.add_sweep_point("add_f32", "GB/s", "copy_GBps", {"size": 1024, "achieved": 1.0})
    record = json.loads(path.read_text())
    assert record["rows"] == [SYNTHETIC["rows"][0]] and record["sweeps"]["add_f32"]["points"][0]["size"] == 1024
    assert set(record) >= {"device", "date", "commit", "versions", "peak", "rows"}
    assert record["peak"] == {"copy_GBps": None, "bf16_TFLOPs": None}
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.json"]  # no temporary file left
    assert json.loads(dumps(SYNTHETIC)) == SYNTHETIC
    assert dumps(SYNTHETIC).count("\n") < 20  # one line per row, not one per number


def test_a_row_record_derives_speedup_achieved_and_target():
    from bench.rows import Measurement, Row, failed_record, record

    row = Row("add_f32", "elementwise", [[1000], [1000]], "float32", run=None)
    peak = {"copy_GBps": 100.0, "bf16_TFLOPs": 10.0}
    entry = record(row, Measurement(tkern_ms=0.5, torch_ms=0.6, bytes_moved=45e6), peak)
    assert entry["speedup"] == 1.2 and entry["achieved"] == 90.0 and entry["unit"] == "GB/s"
    assert entry["pct_of_peak"] == 90.0 and entry["met"] is True
    slow = record(row, Measurement(tkern_ms=1.0, torch_ms=0.6, bytes_moved=45e6), peak)
    assert slow["pct_of_peak"] == 45.0 and slow["met"] is False
    matmul = record(Row("mm_bf16_4096", "matmul", [[2, 3], [3, 4]], "bfloat16", run=None),
                    Measurement(tkern_ms=2.0, torch_ms=1.9, flops=1e10), peak)
    assert matmul["achieved"] == 5.0 and matmul["unit"] == "TFLOP/s" and matmul["pct_of_peak"] == 50.0
    assert matmul["target"] == {"speedup": 0.95} and matmul["met"] is True
    failed = failed_record(row, AssertionError("differs from torch"))
    assert failed["error"] == "AssertionError: differs from torch" and failed["tkern_ms"] is None
    assert ROW_KEYS <= failed.keys()


def test_a_failing_row_is_recorded_and_the_run_goes_on(tmp_path):
    from bench.environment import Machine
    from bench.results import ResultsFile
    from bench.rows import Measurement, Row
    from bench.runner import Suite
    from bench.sizes import TINY

    def disagree(context):
        raise AssertionError("differs from torch by up to 1")

    def measured(context):
        return Measurement(tkern_ms=2.0, torch_ms=1.0)

    results = ResultsFile(tmp_path / "results.json", "interpreter", "abc1234", {}, {})
    suite = Suite(Machine(gpu=False, name="interpreter"), TINY, results, budget=None, only=None, plot_directory=None)
    suite.run_rows([Row("add_f32", "elementwise", [[4]], "float32", disagree),
                    Row("tanh_f32", "elementwise", [[4]], "float32", measured)])
    assert suite.finish() == 1
    first, second = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert first["error"] == "AssertionError: differs from torch by up to 1" and first["name"] == "add_f32"
    assert "error" not in second and second["speedup"] == 0.5
