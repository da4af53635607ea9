"""ops/triton_launcher.Launcher picks, for every repeat launch, the compiled kernel Triton's own
dispatch would pick: its key must never merge two calls that Triton specialises apart.

A child process swaps in the compile-only H100 driver of bench/ (no GPU needed), then runs ops whose
arguments cross every specialisation boundary Triton has: ints equal to 1, multiples of 16 and not,
past int32; unspecialised scalars of each type and range; tensor dtypes; launch options. Each op runs
twice, so the second run takes the fast path, where the check asks Triton's dispatch for the same
arguments and compares. Plans (a call site's own key for everything but pointers and scalar values)
are checked the same way: every call whose key has a plan must bring the plan's arguments.
"""
import os
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent

_CHECK_EVERY_HIT = r'''
import sys

sys.path.insert(0, BENCH)
import compile_only_driver
compile_only_driver.install()

import tkern
from tkern.ops import triton_launcher, triton_arguments
from tkern.ops.backend import backend_for

triton_arguments.INTERPRETING = False  # GPU block sizes and the fast path, as on the real machine
checked = mismatched = 0
original_launch = triton_launcher.Launcher.launch_bound


def checking_launch(self, grid, args, options):
    global checked, mismatched
    known = set(self.compiled)
    original_launch(self, grid, args, options)
    key = self.key(args, options)
    if key in known:
        checked += 1
        if self.compiled[key] is not self.kernel.run(*args, grid=grid, warmup=True, **options):
            mismatched += 1
            print("mismatch:", self.kernel.fn.__name__, key, file=sys.stderr)


triton_launcher.Launcher.launch_bound = checking_launch
original_plan = triton_launcher.Launcher.launch_and_plan
planned = 0


def skipping_plans(self, plan_key, head):
    return False  # every launch takes the slow path, so checking_plan sees what a plan would replace


def checking_plan(self, plan_key, grid, head, tail, **options):
    """A plan serves every later call with its key: that call's own grid and arguments must be the
    plan's, and the plan's kernel Triton's choice for them."""
    global checked, mismatched, planned
    plan = self.plans.get(plan_key)
    original_plan(self, plan_key, grid, head, tail, **options)
    if plan is not None:
        checked += 1
        planned += 1
        compiled, plan_grid, plan_tail = plan
        if (plan_grid, plan_tail) != (grid, tail) or compiled is not self.kernel.run(
                *head, *tail, grid=grid, warmup=True, **options):
            mismatched += 1
            print("plan mismatch:", self.kernel.fn.__name__, plan_key, file=sys.stderr)


triton_launcher.Launcher.launch_planned = skipping_plans
triton_launcher.Launcher.launch_and_plan = checking_plan

base = tkern.ones(4 * 2 ** 10 + 40, device="cuda")
views = [base[:1], base[:16], base[:17], base[:1000], base[1:17], base[16:32], base[17:1017], base[::2][:100],
         base[:64].view(8, 8).t(), base[:60].view(3, 4, 5).transpose(0, 2), base[:5].expand(3, 5)]
scalars = [1, 2, 16, 17, 2 ** 31 - 1, 2 ** 31, 2 ** 40, -2 ** 31, -2 ** 31 - 1, 0.5, 1e30, True]
for _ in range(2):
    for v in views:
        for w in views:
            if w.shape == v.shape:
                v + w
                v * w
        for s in scalars:
            v * s
            s + v
        v.sum()
        v.sum(0)
        v.max()
        v.exp()
        v.double() + 2 ** 40
        (v > 0).sum()
        v.to(tkern.float16) * 0.5
        v.argmax()
        v.max(0)
        v.min(-1)
        v.clamp(0, 1)
        tkern.where(v > 0, v, 0.5)
    for shape in ((1, 1), (17, 33), (64, 32)):
        a = tkern.ones(shape, device="cuda")
        a @ a.t()
        a.t() @ a
        a.long() @ a.t().long()
    tkern.rand(100, device="cuda")
    tkern.randn(17, device="cuda")
    tkern.randint(0, 10, (33,), device="cuda")
    # indexing through the backend: the user-level checks would read index values nothing computed
    backend = backend_for(base._a.device)
    for k in (1, 4, 17):
        index = tkern.zeros(k, dtype=tkern.int64, device="cuda")._a
        values = tkern.ones(k, device="cuda")._a
        backend.gather(tkern.empty(k, device="cuda")._a, base._a, (index,))
        backend.scatter(base._a, (index,), values, False)
        backend.scatter(base._a, (index,), values, True)

# with a profiler's launch hook installed, every launch (plans and matmul's included) goes through
# Triton's dispatch, which calls the hook
from triton import knobs

direct_launches = []
triton_launcher.launch = lambda compiled, grid, args: direct_launches.append(compiled)
knobs.runtime.launch_enter_hook = lambda metadata: None
for _ in range(3):
    m = tkern.ones((17, 33), device="cuda")
    m @ m.t()
    m + m
    m.sum(0)
assert direct_launches == [], [getattr(c, "name", c) for c in direct_launches]
knobs.runtime.launch_enter_hook = None
for _ in range(2):
    m @ m.t()
    m + m
assert len(direct_launches) >= 2, len(direct_launches)  # (direct again once the hook is gone)

# a Triton whose compiled-kernel launcher takes other arguments: one warning, then Triton's dispatch
import warnings


def changed_launcher(compiled, grid, args):
    raise TypeError("launcher takes 7 positional arguments")


triton_launcher.launch = changed_launcher
triton_launcher._direct_launch_works = None
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for _ in range(3):
        base + base
assert triton_launcher._direct_launch_works is False
assert [str(w.message) for w in caught if "launcher changed" in str(w.message)], caught
assert planned > 100, planned
print(checked, mismatched)
'''


def test_launcher_key_agrees_with_triton_launcher():
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    script = f"BENCH = {str(ROOT / 'bench')!r}\n" + textwrap.dedent(_CHECK_EVERY_HIT)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=1500)
    assert out.returncode == 0, out.stderr[-4000:]
    checked, mismatched = map(int, out.stdout.split()[-2:])
    assert mismatched == 0, out.stderr[-4000:]
    assert checked > 200


_TWO_GPUS = r'''
import sys

sys.path.insert(0, BENCH)
import compile_only_driver
compile_only_driver.install()

import triton
from triton.runtime import jit

import tkern
from tkern.ops import triton_launcher, triton_arguments

triton_arguments.INTERPRETING = False
tkern.cuda.device_count = lambda: 2
driver = triton.runtime.driver.active
made_on = {}  # id of a compiled kernel -> the GPU whose context Triton built it for
events = []  # (how, the GPU current at the launch, the GPU its kernel was built for)
run = jit.JITFunction.run


def recording_run(self, *args, **kwargs):
    kernel = run(self, *args, **kwargs)
    made_on[id(kernel)] = (driver.get_current_device(), kernel)
    events.append(("dispatch", driver.get_current_device(), driver.get_current_device()))
    return kernel


def recording_launch(compiled, grid, args):
    events.append(("direct", driver.get_current_device(), made_on[id(compiled)][0]))


jit.JITFunction.run = recording_run
triton_launcher.launch = recording_launch
ops = [lambda x: x + x, lambda x: x * 2.5, lambda x: x.sum(), lambda x: x.sum(0), lambda x: x.argmax(),
       lambda x: x.t() @ x, lambda x: x.t().contiguous(), lambda x: x.clamp(0, 1), lambda x: x.long() @ x.long(),
       lambda x: tkern.rand(5, device=x.device), lambda x: x.fill_(1.5)]
directs = 0
for _ in range(3):
    for index in (0, 1, 1, 0):
        x = tkern.ones((6, 6), device=f"cuda:{index}")
        for op in ops:
            del events[:]
            op(x)
            assert events, "no launch"
            for how, current, built_for in events:
                assert current == built_for == index, (how, current, built_for, index)
                directs += how == "direct"
assert directs > 50, directs

# across GPUs: a dense copy on the source's GPU, the bytes cross, the layout changes on the target's
for _ in range(2):
    x = tkern.ones((6, 6), device="cuda:0")
    del events[:]
    x.t().to("cuda:1", tkern.float16)
    assert [e[1:] for e in events] == [(0, 0), (1, 1)], events
print("ok")
'''


def test_launches_go_to_the_operands_gpu_with_kernels_built_for_it():
    """Two stand-in GPUs: every launch, direct or through Triton's dispatch, happens while the
    operands' GPU is current, with a kernel built in that GPU's context."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    script = f"BENCH = {str(ROOT / 'bench')!r}\n" + textwrap.dedent(_TWO_GPUS)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=1500)
    assert out.returncode == 0 and out.stdout.split() == ["ok"], out.stderr[-4000:]
