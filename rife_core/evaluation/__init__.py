"""Evaluation: PSNR/SSIM/IE, LPIPS and VGG with genuine backbones, evaluating methods, blend/DIS baselines."""

from rife_core.evaluation.baselines import BASELINES, METHODS, blend, dis_interpolate
from rife_core.evaluation.evaluate import evaluate, evaluation_table, model_predictor, verdicts
from rife_core.evaluation.metrics import interpolation_error, psnr, ssim

__all__ = [
    "BASELINES",
    "METHODS",
    "blend",
    "dis_interpolate",
    "evaluate",
    "evaluation_table",
    "interpolation_error",
    "model_predictor",
    "psnr",
    "ssim",
    "verdicts",
]
