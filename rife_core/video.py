"""Frame streams in and out: decoding a video or a folder of frames, writing H.264 or PNG frames, and
running a model over a stream to multiply its frame rate."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from rife_core.data.frames import IMAGE_EXTS, DataError, read_image

log = logging.getLogger(__name__)


def video_frames(path: Path) -> tuple[Iterator[np.ndarray], Fraction, int | None]:
    import av

    container = av.open(str(path))
    stream = container.streams.video[0]
    rate = stream.average_rate or Fraction(25)

    def gen() -> Iterator[np.ndarray]:
        try:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
        finally:
            container.close()

    return gen(), Fraction(rate), stream.frames or None


def folder_frames(path: Path) -> tuple[Iterator[np.ndarray], Fraction, int]:
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTS)
    if len(files) < 2:
        raise DataError(f"{path}: needs at least 2 frames ({', '.join(IMAGE_EXTS)})")
    return (read_image(f) for f in files), Fraction(25), len(files)


class VideoWriter:
    """H.264 (yuv420p) writer; odd sizes are padded by one replicated row/column for the encoder."""

    def __init__(self, path: Path, rate: Fraction, audio_from: Path | None = None) -> None:
        import av

        self.container = av.open(str(path), "w")
        self.stream = self.container.add_stream("libx264", rate=rate)
        self.stream.pix_fmt = "yuv420p"
        self.audio_from = audio_from
        self.audio_out = None
        if audio_from is not None:
            src = av.open(str(audio_from))
            if src.streams.audio:
                self.audio_out = self.container.add_stream_from_template(src.streams.audio[0])
            src.close()
        self.size: tuple[int, int] | None = None

    def write(self, rgb: np.ndarray) -> None:
        import av

        h, w = rgb.shape[:2]
        if self.size is None:
            self.size = (h, w)
            self.stream.height, self.stream.width = h + h % 2, w + w % 2
            if h % 2 or w % 2:
                log.info("odd frame size %dx%d: the encoder gets one replicated row/column", w, h)
        if h % 2 or w % 2:
            rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        for packet in self.stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
            self.container.mux(packet)

    def close(self) -> None:
        import av

        for packet in self.stream.encode():
            self.container.mux(packet)
        if self.audio_out is not None:
            with av.open(str(self.audio_from)) as src:
                for packet in src.demux(src.streams.audio[0]):
                    if packet.dts is not None:
                        packet.stream = self.audio_out
                        self.container.mux(packet)
        self.container.close()


class FolderWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        path.mkdir(parents=True, exist_ok=True)

    def write(self, rgb: np.ndarray) -> None:
        from PIL import Image

        Image.fromarray(rgb).save(self.path / f"{self.count:06d}.png")
        self.count += 1

    def close(self) -> None:
        pass


@torch.no_grad()
def interpolate_stream(model, frames: Iterator[np.ndarray], multi: int, device: torch.device, write) -> int:
    """Write every input frame and ``multi - 1`` synthesised frames between each pair; returns frames written.

    A network without a timestep input (``cfg.timestep_input`` False, e.g. RIFE v3) computes middle frames
    only: the frames at k / multi then come from recursive halving (``multi`` a power of two).
    """
    cfg = getattr(model, "cfg", None)
    halving = cfg is not None and not cfg.timestep_input
    if halving and multi & (multi - 1):
        raise ValueError(f"--multi {multi}: a network without a timestep input needs a power of two (2, 4, 8)")

    def between(a: torch.Tensor, b: torch.Tensor, n: int) -> list[torch.Tensor]:
        """The ``n - 1`` frames between a and b at times k / n, in order."""
        if not halving:
            return [model(a, b, torch.full((1,), k / n, device=device)).frame for k in range(1, n)]
        if n == 1:
            return []
        mid = model(a, b, 0.5).frame
        return [*between(a, mid, n // 2), mid, *between(mid, b, n // 2)]

    def tensor(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(x).permute(2, 0, 1).unsqueeze(0).float().div(255).to(device)

    def image(x: torch.Tensor) -> np.ndarray:
        return (x[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()

    written = 0
    prev = None
    for frame in frames:
        if prev is not None:
            if frame.shape != prev.shape:
                raise DataError(f"frame size changed mid-stream: {prev.shape} -> {frame.shape}")
            for synthesised in between(tensor(prev), tensor(frame), multi):
                write(image(synthesised))
                written += 1
        write(frame)
        written += 1
        prev = frame
    return written
