"""What a network costs: analytic parameters, fvcore MACs with the warp counted, latency and peak memory."""

from rife_core.cost.latency import Latency, measure_latency
from rife_core.cost.macs import UNIT, MacCount, count_macs
from rife_core.cost.params import count_params
from rife_core.cost.report import CostReport, format_report, measure_cost

__all__ = [
    "UNIT",
    "CostReport",
    "Latency",
    "MacCount",
    "count_macs",
    "count_params",
    "format_report",
    "measure_cost",
    "measure_latency",
]
