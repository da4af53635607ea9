"""Tutorial-style programs (tests/programs/) print the same lines under torch and, with their import
lines changed to tkern and nothing else, under tkern on 'cpu': same seed, same numbers."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAMS = sorted((Path(__file__).parent / "programs").glob("*.py"))


def as_tkern(source: str) -> str:
    """The program with each import of torch made an import of tkern, as a user would change it."""
    source = re.sub(r"^import torch$", "import tkern as torch", source, flags=re.M)
    source = re.sub(r"^import torch\.(\S+) as ", r"import tkern.\1 as ", source, flags=re.M)
    return re.sub(r"^from torch(\.\S+)? import ", r"from tkern\1 import ", source, flags=re.M)


def _run(source: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_every_import_is_rewritten():
    for program in PROGRAMS:
        rewritten = as_tkern(program.read_text())
        assert not re.search(r"^\s*(import|from) torch\b", rewritten, flags=re.M), program.name


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_program_prints_what_torch_prints(program):
    source = program.read_text()
    expected = _run(source)
    assert len(expected) > 5
    assert _run(as_tkern(source)) == expected
