"""Frame-interpolation metrics on RGB batches in [0, 1]: PSNR, SSIM, IE (and LPIPS in ``perceptual``)."""

from __future__ import annotations

from functools import cache

import torch
import torch.nn.functional as F

# SSIM constants of Wang et al. and skimage's gaussian_weights=True settings.
SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5  # scipy's gaussian truncation as skimage uses it: radius = int(3.5 * 1.5 + 0.5) = 5
SSIM_K1, SSIM_K2 = 0.01, 0.03
MAX_PSNR = 100.0  # identical images: report 100 dB rather than infinity, so means stay finite


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round to 8-bit levels, as a frame written to disk would be (RIFE's benchmark scripts do this)."""
    return (x.clamp(0, 1) * 255).round() / 255


def psnr(pred: torch.Tensor, target: torch.Tensor, round_pred: bool = True) -> torch.Tensor:
    """Per-image PSNR in dB over all channels, (B,)."""
    p = quantize(pred) if round_pred else pred
    mse = ((p.double() - target.double()) ** 2).flatten(1).mean(1)
    return (-10 * torch.log10(mse.clamp_min(10 ** (-MAX_PSNR / 10)))).float()


def interpolation_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Middlebury IE: mean absolute difference on 8-bit values, per image, (B,)."""
    return ((quantize(pred) - quantize(target)).abs() * 255).flatten(1).mean(1)


@cache
def _gaussian_1d(device: str, dtype: torch.dtype) -> torch.Tensor:
    radius = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    g = torch.exp(-(x**2) / (2 * SSIM_SIGMA**2))
    return (g / g.sum()).to(device=device, dtype=dtype)


def _blur(x: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian, valid region only: exactly the part of skimage's output it averages."""
    g = _gaussian_1d(str(x.device), x.dtype)
    c = x.shape[1]
    x = F.conv2d(x, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def ssim(pred: torch.Tensor, target: torch.Tensor, round_pred: bool = True) -> torch.Tensor:
    """Per-image SSIM (Gaussian window, sigma 1.5, population covariance, data range 1), (B,).

    Equals ``skimage.metrics.structural_similarity(..., channel_axis=-1, gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=1)``: skimage filters the whole image and then
    averages away a border as wide as the window's radius, which is exactly the valid convolution here.
    """
    x = (quantize(pred) if round_pred else pred).double()
    y = target.double()
    if min(x.shape[-2:]) < 2 * int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5) + 1:
        raise ValueError(f"SSIM needs images of at least 11x11 pixels, got {tuple(x.shape[-2:])}")
    mx, my = _blur(x), _blur(y)
    vx = _blur(x * x) - mx * mx
    vy = _blur(y * y) - my * my
    cxy = _blur(x * y) - mx * my
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1).float()
