from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from rife_core.cli.interpolate import main
from rife_core.export import export_onnx, export_torchscript
from rife_core.training.checkpoint import load_model


def write_clip(path: Path, n: int, h: int, w: int) -> Path:
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=24)
        s.height, s.width, s.pix_fmt = h, w, "yuv420p"
        for _ in range(n):
            for p in s.encode(
                av.VideoFrame.from_ndarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8), format="rgb24")
            ):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def count_frames(path: Path) -> tuple[int, float, tuple[int, int]]:
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
        s = c.streams.video[0]
        return len(frames), float(s.average_rate), (frames[0].height, frames[0].width)


def test_video_multi_2_writes_2n_minus_1_frames(tmp_path: Path, tiny_checkpoint: Path) -> None:
    src = write_clip(tmp_path / "in.mp4", 9, 36, 52)
    out = tmp_path / "out.mp4"
    assert (
        main(["--checkpoint", str(tiny_checkpoint), str(src), "-o", str(out), "--multi", "2", "--device", "cpu"]) == 0
    )
    n, fps, size = count_frames(out)
    assert n == 2 * 9 - 1 and fps == pytest.approx(48) and size == (36, 52)


def test_folder_of_odd_sized_frames_multi_4(tmp_path: Path, tiny_checkpoint: Path) -> None:
    rng = np.random.default_rng(1)
    src = tmp_path / "frames"
    src.mkdir()
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (37, 51, 3), dtype=np.uint8)).save(src / f"{i:03d}.png")
    out = tmp_path / "out"
    assert main(["--checkpoint", str(tiny_checkpoint), str(src), "-o", str(out), "--multi", "4"]) == 0
    written = sorted(out.glob("*.png"))
    assert len(written) == 3 * 4 + 1
    assert np.array_equal(np.array(Image.open(written[4])), np.array(Image.open(src / "001.png")))
    assert Image.open(written[1]).size == (51, 37)


def test_interpolate_usage_errors(tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--checkpoint", str(tiny_checkpoint), str(tmp_path / "none.mp4"), "-o", str(tmp_path / "o.mp4")])
    assert exc.value.code == 2 and "no such file" in capsys.readouterr().err


def test_onnx_and_torchscript_match_pytorch(tmp_path: Path, tiny_checkpoint: Path) -> None:
    model = load_model(tiny_checkpoint)
    size = (45, 70)
    g = torch.Generator().manual_seed(3)
    a, b, t = torch.rand(1, 3, *size, generator=g), torch.rand(1, 3, *size, generator=g), torch.tensor([0.3])
    with torch.no_grad():
        ref = model(a, b, t).frame.numpy()
    onnx_path = export_onnx(model, tmp_path / "m.onnx", size)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"img0": a.numpy(), "img1": b.numpy(), "t": t.numpy()})[0]
    assert np.abs(got - ref).max() < 1e-4
    ts = torch.jit.load(str(export_torchscript(model, tmp_path / "m.ts", size)))
    assert np.abs(ts(a, b, t).detach().numpy() - ref).max() < 1e-5


def test_keep_audio_copies_the_audio_track(tmp_path: Path, tiny_checkpoint: Path) -> None:
    src = tmp_path / "va.mp4"
    with av.open(str(src), "w") as c:
        v = c.add_stream("libx264", rate=24)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        a = c.add_stream("aac", rate=44100)
        for i in range(12):
            for p in v.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), format="rgb24")):
                c.mux(p)
        for p in v.encode():
            c.mux(p)
        tone = (np.sin(np.arange(22050) / 44100 * 2 * np.pi * 440) * 0.3).astype(np.float32)[None]
        frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        frame.sample_rate = 44100
        for p in [*a.encode(frame), *a.encode()]:
            c.mux(p)
    out = tmp_path / "out.mp4"
    assert main(["--checkpoint", str(tiny_checkpoint), str(src), "-o", str(out), "--keep-audio"]) == 0
    with av.open(str(out)) as c:
        kinds = sorted(s.type for s in c.streams)
        n_video = sum(1 for _ in c.decode(video=0))
    assert kinds == ["audio", "video"] and n_video == 2 * 12 - 1


def test_a_net_without_timestep_input_multiplies_by_recursive_halving() -> None:
    import numpy as np

    from rife_core.model.config import uniform_blocks
    from rife_core.model.presets import PRESETS, create_model
    from rife_core.video import interpolate_stream

    model = create_model(PRESETS["rife_v3_hd"].replace(blocks=uniform_blocks([2, 1], [8, 8], 1)), seed=0).eval()
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (32, 48, 3), dtype=np.uint8) for _ in range(2)]
    out: list[np.ndarray] = []
    assert interpolate_stream(model, iter(frames), 4, torch.device("cpu"), out.append) == 5

    def as_t(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(x).permute(2, 0, 1).unsqueeze(0).float().div(255)

    def as_img(x: torch.Tensor) -> np.ndarray:
        return (x[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()

    with torch.no_grad():
        a, b = as_t(frames[0]), as_t(frames[1])
        mid = model(a, b, 0.5).frame
        quarter = model(a, mid, 0.5).frame
    assert np.array_equal(out[2], as_img(mid)) and np.array_equal(out[1], as_img(quarter))
    with pytest.raises(ValueError, match="power of two"):
        interpolate_stream(model, iter(frames), 3, torch.device("cpu"), out.append)
