"""What the ZooKeeper-backed benchmarks share: a scratch directory kept only when asked."""

from __future__ import annotations

import shutil
import tempfile
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
