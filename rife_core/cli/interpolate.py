"""``python -m rife_core.interpolate``: raise a video's frame rate with a trained checkpoint.

Examples:
    python -m rife_core.interpolate --checkpoint runs/x/last.pt input.mp4 -o output.mp4 --multi 4
    python -m rife_core.interpolate --checkpoint runs/x/last.pt frames_dir/ -o out_frames/ --multi 2

Between every pair of input frames, multi - 1 frames are synthesised at t = k / multi, so N input frames
become (N - 1) * multi + 1 and the frame rate is multiplied by ``multi``.
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

from rife_core.cli.args import configure_output
from rife_core.data.frames import VIDEO_EXTS, DataError
from rife_core.training.checkpoint import load_model, resolve_device
from rife_core.training.progress import progress_bar
from rife_core.video import FolderWriter, VideoWriter, folder_frames, interpolate_stream, video_frames


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m rife_core.interpolate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", type=Path, help="a video file or a folder of frames")
    p.add_argument("-o", "--output", type=Path, required=True, help="a video file (.mp4, .mkv) or a folder")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--multi", type=int, default=2, choices=(2, 4, 8), help="frame-rate multiplier")
    p.add_argument("--fps", type=float, default=None, help="input frame rate for a folder of frames (default 25)")
    p.add_argument("--keep-audio", action="store_true", help="copy the input's audio track (video input)")
    p.add_argument("--device", default="auto")
    args = p.parse_args(argv)
    configure_output()

    if not args.input.exists():
        p.error(f"{args.input}: no such file or folder")
    is_video = args.input.is_file()
    if is_video and args.input.suffix.lower() not in VIDEO_EXTS:
        p.error(f"{args.input}: not a video file ({', '.join(VIDEO_EXTS)}); give a video or a folder of frames")
    try:
        device = resolve_device(args.device)
        model = load_model(args.checkpoint, device)
    except (FileNotFoundError, ValueError) as e:
        p.error(str(e))
    try:
        frames, rate, count = video_frames(args.input) if is_video else folder_frames(args.input)
    except DataError as e:
        p.error(str(e))
    except Exception as e:  # PyAV raises its own error family for unreadable files
        p.error(f"{args.input}: cannot be opened as a video ({e})")
    if args.fps and not is_video:
        rate = Fraction(args.fps).limit_denominator(1001)
    out_rate = rate * args.multi
    if args.output.suffix.lower() in VIDEO_EXTS:
        writer: VideoWriter | FolderWriter = VideoWriter(
            args.output, out_rate, args.input if (args.keep_audio and is_video) else None
        )
    else:
        writer = FolderWriter(args.output)

    total = (count - 1) * args.multi + 1 if count else None
    bar = progress_bar(total, unit="frame")  # a bar on a terminal, log lines into a redirected log

    def write(rgb: np.ndarray) -> None:
        writer.write(rgb)
        bar.update(1)

    try:
        n = interpolate_stream(model, frames, args.multi, device, write)
    finally:
        writer.close()
        bar.close()
    print(f"wrote {n} frames at {float(out_rate):.3f} fps to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
