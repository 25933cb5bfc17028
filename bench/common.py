"""What the ZooKeeper-backed benchmarks share: a scratch directory kept only when asked, and
waiting for a condition."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

Result = TypeVar("Result")


def in_scratch_dir(prefix: str, keep: bool, run: Callable[[Path], Result]) -> Result:
    """Run ``run`` in a fresh temporary directory, removed afterwards unless ``keep``."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        return run(workdir)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def run_args(run_bench: Callable[[Any, Path], Result], args: Any) -> Callable[[Path], Result]:
    return lambda workdir: run_bench(args, workdir)


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float, poll_s: float) -> float:
    """Poll ``condition`` every ``poll_s``; returns the monotonic time it first held."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not reached within {timeout_s} s")
        time.sleep(poll_s)
    return time.monotonic()
