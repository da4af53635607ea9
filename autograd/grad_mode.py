"""Grad-mode switches, each a context manager and a decorator like torch's."""
from __future__ import annotations

import functools
import threading

class _GradState(threading.local):
    # a class attribute is every thread's starting value: reading it costs ~45 ns, where
    # getattr(local, name, default) on a thread that never set it costs ~300 ns
    enabled = True


_state = _GradState()


def is_grad_enabled() -> bool:
    return _state.enabled


def _set(enabled: bool) -> None:
    _state.enabled = enabled


class _GradMode:
    """Base for the switches: sets the mode on entry and restores the previous one on exit."""

    target = True

    def __enter__(self):
        self._previous = is_grad_enabled()
        _set(self.target)
        return self

    def __exit__(self, *exc) -> None:
        _set(self._previous)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)
        return wrapper

    def _args(self) -> tuple:
        return ()


class no_grad(_GradMode):
    """with tkern.no_grad(): operations record no graph."""

    target = False


class enable_grad(_GradMode):
    target = True


class set_grad_enabled(_GradMode):
    """set_grad_enabled(False) switches at once; as a context manager it restores on exit."""

    def __init__(self, mode: bool):
        self.target = bool(mode)
        self._previous = is_grad_enabled()
        _set(self.target)

    def __call__(self, fn):
        _set(self._previous)  # used as a decorator: the switch happens only around calls
        return super().__call__(fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        _set(self._previous)

    def _args(self) -> tuple:
        return (self.target,)


class inference_mode(_GradMode):
    def __init__(self, mode: bool = True):
        self.target = not mode

    def _args(self) -> tuple:
        return (not self.target,)
