"""What every benchmark script records besides its own figures: the machine it ran on, the
commit it measured, the process's peak memory, and where results go (RESULTS.md, newest
first)."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import subprocess
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
RESULTS_HEADER = (
    "# Benchmark results\n\n"
    "Newest first. Each section names the script that produced it (`bench/`).\n"
)


def machine() -> dict[str, str]:
    """CPU model, cores, memory, Python, platform, 1-minute load average and commit (with
    "+ uncommitted changes" when src/ or bench/ differ from it)."""
    model = platform.processor() or platform.machine()
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load": f"{load:.2f}",
        "commit": commit(),
    }


def cpu_reference_seconds(rounds: int = 3) -> float:
    """Seconds (best of ``rounds``) for a fixed single-core Python workload of the kind our
    stages do: hashing, string building and splitting, dict look-ups, Decimal sums.

    The same code on the same machine model takes about twice as long on some days (a shared
    host); recorded at the start and the end of a run, it says how fast the machine was, so
    runs from different days can be compared (stage time / reference time)."""
    import hashlib
    import time
    from decimal import Decimal

    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        index: dict[str, Decimal] = {}
        total = Decimal(0)
        for number in range(200_000):
            key = hashlib.blake2b(str(number).encode(), digest_size=8).hexdigest()
            segment = "*".join(("CLP", key, "1", str(number % 997), "12.50", "", "MC"))
            amount = Decimal(segment.split("*")[3]) + Decimal("0.25")
            index[key] = amount
            total += index[key]
        if total <= 0:  # pragma: no cover - keeps the loop from being optimised away
            raise AssertionError(total)
        best = min(best, time.perf_counter() - started)
    return best


def commit() -> str:
    git = shutil.which("git") or "git"
    try:
        head = subprocess.run(  # noqa: S603 - fixed arguments, read-only git command
            [git, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=BENCH_DIR,
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603 - fixed arguments, read-only git command
            [git, "status", "--porcelain", "--", "src", "bench", "dbt_project"],
            capture_output=True,
            text=True,
            check=False,
            cwd=BENCH_DIR.parent,
        ).stdout.strip()
    except OSError:
        return "unknown"
    if head and dirty:
        head += " + uncommitted changes"
    return head or "unknown"


def peak_rss_mb() -> float:
    """The process's peak resident memory (Linux VmHWM; elsewhere ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Reset the process's peak RSS so the next :func:`peak_rss_mb` covers only what follows
    (Linux >= 4.0); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def record(section: str) -> None:
    """Put ``section`` (starting with a ``## `` heading) first in RESULTS.md."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else RESULTS_HEADER
    at = text.find("\n## ")
    if at < 0:
        text = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    else:
        text = text[: at + 1] + section.rstrip("\n") + "\n\n" + text[at + 1 :]
    RESULTS.write_text(text, encoding="utf-8")
