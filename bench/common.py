"""Shared helpers for the benchmarks: machine description, repeated timing, statistics, JSON output.

Every benchmark process pins torch to one intra-op thread (the development machine is shared; see README) and
records the thread count, the load average before and after, and the machine it ran on. The benchmarks measure the
package as it is; the earlier figures they are compared with are committed JSON files that no benchmark writes
(`RECORDED`).
"""
from __future__ import annotations
import json, os, platform, statistics, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("LPC_BENCH_RESULTS") or ROOT / "bench" / "results")  # tests redirect it
if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))

import torch

# figures recorded with options since removed (older samplers.py taken from git): kept as written, never overwritten
RECORDED = ("step_overhead_before", "cost_quality_before", "iteration_time_before", "metric_throughput_before",
            "step_overhead_paired")


def check_output(name: str) -> str:
    "`name` if a benchmark may write bench/results/NAME.json, else a ValueError (the recorded files are history)."
    if name in RECORDED: raise ValueError(f"bench/results/{name}.json is a recorded figure (common.RECORDED) and is "
                                          "never overwritten: choose another --suffix")
    return name


def set_threads(n: int | None = None) -> int:
    "Pin torch to `n` intra-op threads (default: $LPC_BENCH_THREADS, else 1); returns the count in use."
    n = int(os.environ.get("LPC_BENCH_THREADS", "1")) if n is None else n
    torch.set_num_threads(n)
    return torch.get_num_threads()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"): return line.split(":", 1)[1].strip()
    except OSError: pass
    return platform.processor() or "unknown"


def machine() -> dict:
    "Where and how the numbers were taken."
    try: import lpc_book; ver = lpc_book.__version__
    except Exception: ver = None
    return dict(platform=platform.platform(), python=platform.python_version(), cpu_model=cpu_model(),
                cpu_count=os.cpu_count(), torch=torch.__version__, torch_num_threads=torch.get_num_threads(),
                torch_num_interop_threads=torch.get_num_interop_threads(), cuda=torch.cuda.is_available(),
                lpc_book=ver, hostname=platform.node())


def loadavg() -> list[float] | None:
    try: return [round(v, 2) for v in os.getloadavg()]
    except OSError: return None


def summary(xs: list[float]) -> dict:
    "Median and spread of repeated measurements."
    xs = sorted(float(x) for x in xs)
    n = len(xs)
    q = (lambda p: xs[min(n - 1, max(0, round(p * (n - 1))))]) if n else (lambda p: float("nan"))
    return dict(median=statistics.median(xs) if n else float("nan"), q25=q(0.25), q75=q(0.75),
                min=xs[0] if n else float("nan"), max=xs[-1] if n else float("nan"), n=n, values=xs)


class Timer:
    "Wall-clock (perf_counter) and process CPU time of a block; with one torch thread, CPU time is robust to load."
    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), time.process_time(); return self
    def __exit__(self, *a):
        self.wall, self.cpu = time.perf_counter() - self.w0, time.process_time() - self.c0


def write_json(obj: dict, name: str) -> Path:
    "Write results atomically to bench/results/NAME.json."
    check_output(name)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)
    return path


def header(name: str, quick: bool, suffix: str = "") -> dict:
    "The start of a result: what, when, where (checks first that NAME + SUFFIX.json may be written)."
    check_output(name + suffix)
    return dict(benchmark=name, quick=quick, started=time.strftime("%Y-%m-%dT%H:%M:%S%z"), machine=machine(),
                loadavg_start=loadavg(), argv=sys.argv)


def footer(res: dict, t0: float) -> dict:
    res["loadavg_end"] = loadavg()
    res["seconds"] = round(time.perf_counter() - t0, 1)
    return res


def finish(res: dict, t0: float, name: str) -> Path:
    "Record the thread count, the load average and the duration, write NAME.json, and say where."
    res["torch_num_threads"] = torch.get_num_threads()
    path = write_json(footer(res, t0), name)
    print(f"  -> {path} ({res['seconds']} s)")
    return path
