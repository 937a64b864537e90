"""Synthetic large-motion triplets with exact ground truth.

A colour photo shipped by scikit-image moves by a motion linear in time (translation of up to tens of
pixels, small rotation and zoom), and a few sprites cut from other photos move independently on top of
it, occluding the background. Frame0 is rendered at time -1/2, frame1 at +1/2 and the target at t - 1/2
for t in (0, 1): every frame comes from the same continuous scene, so the target is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rife_core.data.frames import DataError, read_image
from rife_core.data.triplets import SPLITS, Triplet, check_split

PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png")
# Each split draws from its own seed stream, so no sample is shared across splits.
SPLIT_STREAMS = {name: i for i, name in enumerate(SPLITS)}


def photo_paths() -> list[Path]:
    import skimage

    folder = Path(skimage.__file__).parent / "data"
    paths = [folder / p for p in PHOTOS]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise DataError(
            f"scikit-image lacks {', '.join(missing)}; reinstall it: pip install --force-reinstall scikit-image"
        )
    return paths


@dataclass(frozen=True)
class SyntheticConfig:
    size: tuple[int, int] = (256, 256)  # (H, W) of every frame
    max_shift: float = 48.0  # largest background displacement between frame0 and frame1, pixels
    max_rotation: float = 6.0  # degrees between frame0 and frame1
    max_zoom: float = 0.08  # relative scale change between frame0 and frame1
    sprites: tuple[int, int] = (1, 4)  # inclusive range of independently moving sprites
    sprite_size: tuple[int, int] = (32, 96)  # sprite side range, pixels
    max_sprite_shift: float = 64.0  # largest sprite displacement between frame0 and frame1
    random_t: bool = False  # False: t = 0.5; True: t uniform in (0.05, 0.95)


class SyntheticTriplets:
    """``length`` deterministic samples; sample ``i`` of ``split`` is the same on every machine."""

    name = "synthetic"

    def __init__(self, split: str, length: int = 2000, seed: int = 0, config: SyntheticConfig | None = None) -> None:
        check_split(split)
        self.split = split
        self.length = length
        self.seed = seed
        self.cfg = config or SyntheticConfig()
        self._photos: list[np.ndarray] | None = None

    def __len__(self) -> int:
        return self.length

    @property
    def photos(self) -> list[np.ndarray]:
        if self._photos is None:  # loaded lazily so that worker processes read their own copy
            self._photos = [read_image(p) for p in photo_paths()]
        return self._photos

    def __getitem__(self, idx: int) -> Triplet:
        if not 0 <= idx < self.length:
            raise IndexError(idx)
        rng = np.random.default_rng([self.seed, SPLIT_STREAMS[self.split], idx])
        t = float(rng.uniform(0.05, 0.95)) if self.cfg.random_t else 0.5
        scene = self._scene(rng)
        frames = [self._render(scene, tau) for tau in (-0.5, t - 0.5, 0.5)]
        return Triplet(frames[0], frames[1], frames[2], t, f"synthetic/{self.split}#{idx}")

    def _scene(self, rng: np.random.Generator) -> dict:
        cfg = self.cfg
        h, w = cfg.size
        bg = self.photos[rng.integers(len(self.photos))]
        direction = rng.uniform(0, 2 * np.pi)
        shift = rng.uniform(0, cfg.max_shift) * np.array([np.cos(direction), np.sin(direction)])
        sprites = []
        for _ in range(rng.integers(cfg.sprites[0], cfg.sprites[1] + 1)):
            src = self.photos[rng.integers(len(self.photos))]
            sh, sw = (int(rng.integers(cfg.sprite_size[0], cfg.sprite_size[1] + 1)) for _ in range(2))
            y, x = int(rng.integers(0, src.shape[0] - sh)), int(rng.integers(0, src.shape[1] - sw))
            yy, xx = np.mgrid[:sh, :sw]
            # An ellipse, so sprite edges are not axis-aligned like the crop.
            mask = (((yy - sh / 2) / (sh / 2)) ** 2 + ((xx - sw / 2) / (sw / 2)) ** 2) <= 1
            d = rng.uniform(0, 2 * np.pi)
            sprites.append(
                {
                    "patch": src[y : y + sh, x : x + sw],
                    "mask": mask,
                    "pos": np.array([rng.uniform(0, w - sw), rng.uniform(0, h - sh)]),
                    "vel": rng.uniform(0, cfg.max_sprite_shift) * np.array([np.cos(d), np.sin(d)]),
                }
            )
        # Background crop centre, kept far enough from the photo's border for the whole motion.
        margin = cfg.max_shift + max(h, w) * (0.5 + cfg.max_zoom)
        cx = rng.uniform(min(margin, bg.shape[1] / 2), max(bg.shape[1] - margin, bg.shape[1] / 2))
        cy = rng.uniform(min(margin, bg.shape[0] / 2), max(bg.shape[0] - margin, bg.shape[0] / 2))
        return {
            "bg": bg,
            "center": np.array([cx, cy]),
            "shift": shift,
            "angle": rng.uniform(-cfg.max_rotation, cfg.max_rotation),
            "zoom": rng.uniform(-cfg.max_zoom, cfg.max_zoom),
            "sprites": sprites,
        }

    def _render(self, scene: dict, tau: float) -> np.ndarray:
        import cv2

        h, w = self.cfg.size
        # Output pixel p shows source point center + R(tau)^-1 (p - out_center - tau*shift) / zoom(tau).
        fwd = cv2.getRotationMatrix2D((0.0, 0.0), tau * scene["angle"], 1.0 + tau * scene["zoom"])
        fwd[:, 2] = np.array([w / 2, h / 2]) + tau * scene["shift"] - fwd[:, :2] @ scene["center"]
        frame = cv2.warpAffine(scene["bg"], fwd, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        for sp in scene["sprites"]:
            m = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float64)
            m[:, 2] = sp["pos"] + tau * sp["vel"]
            patch = cv2.warpAffine(sp["patch"], m, (w, h), flags=cv2.INTER_LINEAR)
            mask = cv2.warpAffine(sp["mask"].astype(np.float32), m, (w, h), flags=cv2.INTER_LINEAR)[..., None]
            frame = (patch * mask + frame * (1 - mask) + 0.5).astype(np.uint8)
        return frame
