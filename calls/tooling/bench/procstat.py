"""What the OS says a process and the machine used: CPU time, resident memory, idle.

Reads Linux's ``/proc`` directly (no psutil): ``/proc/<pid>/stat`` for a process's
user + system time in clock ticks (all its threads together), ``/proc/<pid>/status``
for ``VmRSS``, and ``/proc/stat`` for the machine's idle time. The benchmark takes
one ``Snapshot`` at each end of its measurement window and subtracts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds used so far by process ``pid`` (all threads)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        text = stat.read()
    # The command name (field 2) may contain spaces: split after its ")".
    fields = text[text.rindex(")") + 2 :].split()
    # utime and stime are fields 14 and 15; after the name, 11 and 12 (0-based).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of process ``pid`` in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except FileNotFoundError:
        return 0
    return 0


@dataclass(frozen=True)
class MachineTimes:
    """Cumulative CPU time of the whole machine, in clock ticks."""

    idle: int
    total: int

    @classmethod
    def read(cls) -> MachineTimes:
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal (guest time is in user).
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return cls(idle=idle, total=sum(values[:8]))

    def idle_fraction_since(self, earlier: MachineTimes) -> float:
        total = self.total - earlier.total
        return (self.idle - earlier.idle) / total if total > 0 else 0.0


@dataclass(frozen=True)
class Snapshot:
    """CPU seconds of some processes and the machine's times, at one moment."""

    cpu: dict[int, float]
    machine: MachineTimes

    @classmethod
    def take(cls, pids: list[int]) -> Snapshot:
        cpu = {}
        for pid in pids:
            try:
                cpu[pid] = cpu_seconds(pid)
            except (FileNotFoundError, ProcessLookupError):
                cpu[pid] = 0.0
        return cls(cpu=cpu, machine=MachineTimes.read())

    def cpu_since(self, earlier: Snapshot, pids: list[int]) -> float:
        """CPU seconds ``pids`` used between ``earlier`` and this snapshot."""
        return sum(self.cpu.get(p, 0.0) - earlier.cpu.get(p, 0.0) for p in pids)


def with_descendants(pids: list[int]) -> list[int]:
    """``pids`` and every process below them, as they stand now.

    Some servers (granian) serve from a child of the process the benchmark starts;
    its CPU and memory are the server's too.
    """
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                text = stat.read()
        except OSError:
            continue
        parent = int(text[text.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry))
    out, queue = [], list(pids)
    while queue:
        pid = queue.pop(0)
        out.append(pid)
        queue.extend(children.get(pid, []))
    return out


def total_rss(pids: list[int]) -> int:
    return sum(rss_bytes(pid) for pid in pids)
