"""CPU accounting from /proc: how much CPU everything *else* used while a worker was timed.

Owns: reading /proc/stat (machine-wide busy and steal jiffies) and /proc/<pid>/stat (one
process's utime + stime, all its threads), and turning two snapshots into "cores used by others".
Must not: start, stop or signal any process. Linux only.

    window = Window(active_pid, harness_pids=[os.getpid()], idle_pids=[...])
    ...  # the timed work
    usage = window.close()   # {"wall_s", "others_cores", "idle_workers_cores", "steal_cores", ...}
"""

from __future__ import annotations

import os
import time

HZ = os.sysconf("SC_CLK_TCK")


def machine_jiffies() -> tuple[int, int]:
    """(busy, steal) jiffies summed over all CPUs since boot.

    busy = user + nice + system + irq + softirq (guest time is already inside user); idle and
    iowait are not busy. steal is time the hypervisor gave this VM's CPUs to someone else.
    """
    with open("/proc/stat") as f:
        fields = f.readline().split()
    if fields[0] != "cpu":
        raise RuntimeError(f"/proc/stat does not start with the 'cpu' line: {fields[:3]}")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return user + nice + system + irq + softirq, steal


def process_jiffies(pid: int) -> int:
    """utime + stime of `pid` (all threads), or 0 if it has exited."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    after_comm = text[text.rindex(")") + 2:].split()  # the command name may contain spaces
    return int(after_comm[11]) + int(after_comm[12])  # fields 14 and 15 of proc(5)


class Window:
    """CPU used by others between construction and `close()`.

    `active_pid` is the timed worker; `harness_pids` (the driving process) are not counted as
    contamination because they sleep on a pipe; `idle_pids` (the other, waiting workers) are
    counted, but also reported apart so one can see whether they stayed quiet.
    """

    def __init__(self, active_pid: int | None, harness_pids=(), idle_pids=()):
        self.active_pid = active_pid
        self.harness_pids, self.idle_pids = list(harness_pids), list(idle_pids)
        self._start = self._snapshot()

    def _snapshot(self) -> dict:
        busy, steal = machine_jiffies()
        return {"t": time.perf_counter(), "busy": busy, "steal": steal,
                "active": process_jiffies(self.active_pid) if self.active_pid else 0,
                "harness": sum(process_jiffies(p) for p in self.harness_pids),
                "idle": sum(process_jiffies(p) for p in self.idle_pids)}

    def close(self) -> dict:
        end = self._snapshot()
        d = {k: end[k] - self._start[k] for k in end}
        wall = max(d["t"], 1e-9)
        others = d["busy"] - d["active"] - d["harness"]
        return {"wall_s": wall,
                "active_cores": d["active"] / HZ / wall,
                "others_cores": max(others, 0) / HZ / wall,
                "idle_workers_cores": d["idle"] / HZ / wall,
                "steal_cores": d["steal"] / HZ / wall}


def contaminated(usage: dict, threshold_cores: float) -> bool:
    """Other processes (or the hypervisor, via steal) took more than `threshold_cores` cores."""
    return usage["others_cores"] + usage["steal_cores"] > threshold_cores


def wait_for_quiet(max_wait_s: float, threshold_cores: float, probe_s: float = 0.5) -> dict:
    """Sleeps in `probe_s` windows until one is quiet, at most `max_wait_s`; returns the last window.

    Only this process is excluded, so everything else that runs counts as noise.
    """
    start = time.perf_counter()
    while True:
        window = Window(None, harness_pids=[os.getpid()])
        time.sleep(probe_s)
        usage = window.close()
        waited = time.perf_counter() - start
        if not contaminated(usage, threshold_cores) or waited >= max_wait_s:
            usage["waited_s"] = waited
            return usage
