"""Training losses; a loss is a weighted sum of named terms given in config.

The article's default is ``{"l1": 0.2, "vgg": 1.0}``; ``lpips`` can replace ``vgg``. ``lap`` is RIFE's
Laplacian-pyramid L1, ``charbonnier`` a smooth L1, and ``deep_supervision`` applies L1 to every block's
intermediate merge (weighted by this factor and averaged over blocks). ``parent`` is L1 to a pretrained
parent's frame of the same batch (output distillation); ``parent_flow`` pulls each block's flow and mask
towards those of the parent's block nearest in scale (distillation of the motion). ``distill`` pulls every
block's flow towards the teacher flows of the batch (``rife_core.data.teacher``; RIFE's privileged
distillation and IFRNet's task-oriented flow distillation are the models), each pixel weighted by how well
the teacher's own flow warps the input onto the middle frame, so that wrong teacher flow teaches little.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from rife_core.evaluation.perceptual import VGGFeatures, build_lpips
from rife_core.model.ifnet import IFNet, IFNetOutput
from rife_core.model.slicing import nearest_block

DEFAULT_LOSS = {"l1": 0.2, "vgg": 1.0}
CHARBONNIER_EPS = 1e-3
LAP_LEVELS = 5  # RIFE's LapLoss: five pyramid levels
# Binomial 5x5 kernel (outer product of [1, 4, 6, 4, 1] / 16): RIFE's Gaussian pyramid filter.
_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


def charbonnier(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.sqrt((pred - target) ** 2 + CHARBONNIER_EPS**2).mean()


class LaplacianLoss(nn.Module):
    """L1 between Laplacian pyramids (RIFE's LapLoss): band-pass differences at five scales."""

    def __init__(self, levels: int = LAP_LEVELS) -> None:
        super().__init__()
        self.levels = levels
        self.register_buffer("kernel", torch.outer(_BINOMIAL, _BINOMIAL).view(1, 1, 5, 5), persistent=False)

    def _blur(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), self.kernel.expand(c, 1, 5, 5), groups=c)

    def _pyramid(self, x: torch.Tensor) -> list[torch.Tensor]:
        bands = []
        for _ in range(self.levels):
            if min(x.shape[-2:]) < 6:  # reflect padding needs > 2 pixels; stop at the coarsest usable level
                break
            down = self._blur(x)[..., ::2, ::2]
            up = torch.zeros_like(x)
            up[..., ::2, ::2] = down * 4  # zero-insertion upsampling, then the same blur
            bands.append(x - self._blur(up))
            x = down
        bands.append(x)
        return bands

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sum(F.l1_loss(a, b) for a, b in zip(self._pyramid(pred), self._pyramid(target), strict=True))


class VGGLoss(nn.Module):
    """Mean L1 distance between VGG16 ReLU features (relu1_2 .. relu5_3) of prediction and target."""

    def __init__(self) -> None:
        super().__init__()

        self.features = VGGFeatures()

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        fp, ft = self.features(pred), self.features(target)
        return sum(F.l1_loss(a, b) for a, b in zip(fp, ft, strict=True)) / len(fp)


class LPIPSLoss(nn.Module):
    def __init__(self, net: str = "vgg") -> None:
        super().__init__()

        self.model = build_lpips(net)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.model(pred, target, normalize=True).mean()


# The teacher's per-pixel weight is exp(-e / DISTILL_ERROR_SCALE) with e its warp error (mean absolute,
# images in [0, 1]): 0.05 is about 13 grey levels, where DIS flow is usually wrong, not merely imprecise.
DISTILL_ERROR_SCALE = 0.05


def distill_loss(
    flows: list[torch.Tensor],
    teacher: torch.Tensor,
    model: IFNet,
    img0: torch.Tensor,
    img1: torch.Tensor,
    target: torch.Tensor,
) -> torch.Tensor:
    """Mean over blocks of the teacher-weighted Charbonnier distance between block flow and teacher flow."""
    with torch.no_grad():
        e0 = (model.warp(img0, teacher[:, :2]) - target).abs().mean(1, keepdim=True)
        e1 = (model.warp(img1, teacher[:, 2:4]) - target).abs().mean(1, keepdim=True)
        w = torch.cat([torch.exp(-e0 / DISTILL_ERROR_SCALE)] * 2 + [torch.exp(-e1 / DISTILL_ERROR_SCALE)] * 2, 1)
    per_block = [(w * torch.sqrt((f - teacher) ** 2 + CHARBONNIER_EPS**2)).mean() for f in flows]
    return sum(per_block) / len(per_block)


def parent_flow_loss(out: IFNetOutput, model: IFNet, parent_out: IFNetOutput, parent: IFNet) -> torch.Tensor:
    """Mean over the child's blocks of the Charbonnier distance (pixels) from its flow to the flow of the
    parent's block nearest in scale, plus the L1 distance between their fusion masks (``parent_out``: the
    parent's output, computed without gradients)."""
    terms = []
    for i, block in enumerate(model.cfg.blocks):
        j = nearest_block(parent.cfg, block.scale)
        terms.append(charbonnier(out.flows[i], parent_out.flows[j]) + F.l1_loss(out.masks[i], parent_out.masks[j]))
    return sum(terms) / len(terms)


PARENT_TERM = "parent"  # L1 to a pretrained parent's frame of the same batch (``TrainConfig.parent``)
PARENT_FLOW_TERM = "parent_flow"  # the parent's per-block flows and masks as targets
PARENT_TERMS = (PARENT_TERM, PARENT_FLOW_TERM)  # terms that read the parent (``TrainConfig.parent``)
TERMS = ("l1", "charbonnier", "lap", "vgg", "lpips", "deep_supervision", "distill", *PARENT_TERMS)
NEEDS_TEACHER = ("distill",)
BACKBONE_OF_TERM = {"vgg": "vgg", "lpips": "vgg"}  # ImageNet weights a term needs (backbone_weights)


class CompositeLoss(nn.Module):
    """``sum(weight * term)`` over the configured terms; ``forward`` also returns each term's value."""

    def __init__(self, weights: Mapping[str, float] | None = None) -> None:
        super().__init__()
        self.weights = dict(DEFAULT_LOSS if weights is None else weights)
        unknown = sorted(set(self.weights) - set(TERMS))
        if unknown or not self.weights:
            raise ValueError(f"loss terms {unknown or '(none)'}: choose from {', '.join(TERMS)}, e.g. {DEFAULT_LOSS}")
        self.lap = LaplacianLoss() if "lap" in self.weights else None
        self.vgg = VGGLoss() if "vgg" in self.weights else None
        self.lpips = LPIPSLoss() if "lpips" in self.weights else None

    @property
    def needs_teacher(self) -> bool:
        return any(k in self.weights for k in NEEDS_TEACHER)

    @property
    def needs_parent(self) -> bool:
        return any(t in self.weights for t in PARENT_TERMS)

    @property
    def needs_parent_output(self) -> bool:
        """Whether the parent's flows and masks are read, not only its frame (which a dataset may cache)."""
        return PARENT_FLOW_TERM in self.weights

    def forward(
        self,
        out: IFNetOutput,
        target: torch.Tensor,
        model: IFNet,
        img0: torch.Tensor,
        img1: torch.Tensor,
        teacher: torch.Tensor | None = None,
        parent_frame: torch.Tensor | None = None,
        parent_out: tuple[IFNetOutput, IFNet] | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """``teacher``: the batch's teacher flows (B, 4, H, W), needed by ``distill``; ``parent_frame``: the
        parent's frame for the batch, needed by ``parent``; ``parent_out``: the parent's whole output and
        the parent, needed by ``parent_flow``."""
        pred = out.frame
        terms: dict[str, torch.Tensor] = {}
        for name in self.weights:
            if name == "l1":
                terms[name] = F.l1_loss(pred, target)
            elif name == "charbonnier":
                terms[name] = charbonnier(pred, target)
            elif name == "lap":
                terms[name] = self.lap(pred, target)
            elif name == "vgg":
                terms[name] = self.vgg(pred, target)
            elif name == "lpips":
                terms[name] = self.lpips(pred, target)
            elif name == "deep_supervision":
                merges = [model.merge(img0, img1, f, m) for f, m in zip(out.flows[:-1], out.masks[:-1], strict=True)]
                terms[name] = (
                    sum(F.l1_loss(mg, target) for mg in merges) / len(merges) if merges else pred.new_zeros(())
                )
            elif name == "distill":
                if teacher is None:
                    raise ValueError("the distill loss needs teacher flows: load the data with TeacherFlows")
                terms[name] = distill_loss(out.flows, teacher, model, img0, img1, target)
            elif name == PARENT_TERM:
                if parent_frame is None:
                    raise ValueError("the parent loss needs the parent's frame: set TrainConfig.parent")
                terms[name] = F.l1_loss(pred, parent_frame)
            elif name == PARENT_FLOW_TERM:
                if parent_out is None:
                    raise ValueError("the parent_flow loss needs the parent's output: set TrainConfig.parent")
                terms[name] = parent_flow_loss(out, model, *parent_out)
        total = sum(self.weights[k] * v for k, v in terms.items())
        return total, {k: float(v.detach()) for k, v in terms.items()}
