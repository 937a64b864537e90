"""What ran a computation: CPU model, the instruction set torch's kernels use, torch's version and threads.

Training on a CPU is reproducible to the hundredth on one machine, but not across machines whose kernels
differ (another instruction set rounds differently, and 600 steps amplify it), so rows record this
beside their scores.
"""

from __future__ import annotations

import platform
from pathlib import Path

import torch


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: str = "cpu") -> dict[str, str | int]:
    """``{cpu, capability, torch, threads, device}``: enough to tell whether two rows ran on the same kernels."""
    info: dict[str, str | int] = {
        "cpu": cpu_model(),
        "capability": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": device,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info
