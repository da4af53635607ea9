"""The machine a run measures: GPU or interpreter, its name, versions and commit; process settings.

configure_process() must run before triton or tkern is imported: Triton reads TRITON_INTERPRET when
kernels are defined.
"""
from __future__ import annotations

import os
import pathlib
import platform
import re
import subprocess
import warnings
from dataclasses import dataclass

REPO = pathlib.Path(__file__).resolve().parent.parent
# a fixed place outside the repository, so a second run on the same machine reuses compiled kernels
# and the autotuner's choices instead of paying minutes of compilation again
DEFAULT_TRITON_CACHE = pathlib.Path.home() / ".cache" / "tkern" / "triton"


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


@dataclass(frozen=True)
class Machine:
    gpu: bool  # a real GPU runs the kernels; False: Triton's interpreter on host memory
    name: str

    @property
    def torch_device(self) -> str:
        """Where torch's reference runs: beside tkern's kernels."""
        return "cuda" if self.gpu else "cpu"

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


def configure_process() -> Machine:
    """Choose GPU or interpreter (no usable GPU: interpreter) and set Triton's persistent caches."""
    import torch

    if not interpreting() and not torch.cuda.is_available():
        os.environ["TRITON_INTERPRET"] = "1"
    os.environ.setdefault("TRITON_CACHE_DIR", str(DEFAULT_TRITON_CACHE))
    os.environ.setdefault("TRITON_CACHE_AUTOTUNING", "1")  # the autotuner's choices kept on disk too
    if interpreting():
        # the interpreter's numpy warns where a GPU computes silently (pow's log2 of 0, say)
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="triton.runtime.interpreter")
        return Machine(gpu=False, name="interpreter")
    return Machine(gpu=True, name=torch.cuda.get_device_name())


def versions() -> dict:
    import numpy
    import torch
    import triton

    return {"python": platform.python_version(), "torch": torch.__version__, "triton": triton.__version__,
            "numpy": numpy.__version__, "cuda": torch.version.cuda}


def commit() -> str:
    """HEAD's short hash, with '+dirty' when tracked files differ from it (the numbers are not HEAD's)."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=REPO)

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("diff", "--quiet", "HEAD", "--").returncode == 1
    except OSError:
        return "unknown"
    return (head.stdout.strip() or "unknown") + ("+dirty" if dirty else "")
