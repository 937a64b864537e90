from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rife_core.data.frames import DataError
from rife_core.data.spec import MixedTriplets, load, parse_spec
from rife_core.data.synthetic import SyntheticTriplets

from .conftest import rand_img, save, shared_or_skip, write_video


def blend_psnr(ds) -> float:
    vals = []
    for i in range(len(ds)):
        tri = ds[i]
        blend = (tri.img0.astype(np.float64) + tri.img1) / 2
        vals.append(10 * np.log10(255.0**2 / ((blend - tri.imgt) ** 2).mean()))
    return float(np.mean(vals))


def test_ucf101_shared_triplets_match_the_reference_blend() -> None:
    root = shared_or_skip("ucf101_adacof")
    ds = load(f"ucf101:{root}", "test")
    assert len(ds) == 21 and ds[0].img0.shape == (240, 320, 3)
    assert abs(blend_psnr(ds) - 30.53) < 0.01  # measured with independent code (shared/data/README.md)


def test_vimeo_triplet_layout_with_the_shared_example(tmp_path: Path) -> None:
    src = shared_or_skip("vimeo_pytoflow_example")
    seq = tmp_path / "sequences" / "00001" / "0001"
    seq.mkdir(parents=True)
    for i in (1, 2, 3):
        (seq / f"im{i}.png").symlink_to(src / f"im{i}.png")
    (tmp_path / "tri_testlist.txt").write_text("00001/0001\n")
    ds = load(f"vimeo_triplet:{tmp_path}", "test")
    assert len(ds) == 1 and ds[0].img0.shape == (256, 448, 3)
    assert abs(blend_psnr(ds) - 17.09) < 0.01  # shared/data/README.md


def test_vimeo_septuplet_with_the_shared_sequence(tmp_path: Path) -> None:
    src = shared_or_skip("vimeo90k_mmagic_tiny")
    (tmp_path / "sequences").symlink_to(src)
    (tmp_path / "sep_testlist.txt").write_text("00001/0266\n")
    (tmp_path / "sep_trainlist.txt").write_text("00001/0266\n")
    test = load(f"vimeo_septuplet:{tmp_path}", "test")
    assert len(test) == 1 and test[0].t == 0.5 and test[0].img0.shape == (64, 112, 3)
    train = load(f"vimeo_septuplet:{tmp_path}", "train")
    assert len(train) == 35  # every sorted triple of 7 frames
    ts = sorted({train[i].t for i in range(len(train))})
    assert ts[0] == pytest.approx(1 / 6) and ts[-1] == pytest.approx(5 / 6)


def make_vimeo(root: Path, groups: int = 20) -> None:
    rng = np.random.default_rng(0)
    names = []
    for g in range(1, groups + 1):
        name = f"{g:05d}/0001"
        for i in (1, 2, 3):
            save(root / "sequences" / name / f"im{i}.png", rand_img(rng, 8, 12))
        names.append(name)
    (root / "tri_trainlist.txt").write_text("\n".join(names[:-2]) + "\n")
    (root / "tri_testlist.txt").write_text("\n".join(names[-2:]) + "\n")


def test_vimeo_train_val_test_are_disjoint(tmp_path: Path) -> None:
    make_vimeo(tmp_path)
    items = {s: {it[1] for it in load(f"vimeo_triplet:{tmp_path}", s).items} for s in ("train", "val", "test")}
    assert len(items["train"]) == 17 and len(items["val"]) == 1 and len(items["test"]) == 2
    assert not (items["train"] & items["val"] or items["train"] & items["test"])


def test_atd12k_middlebury_and_frame_folders(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for split_dir, ext in (("train_10k", "jpg"), ("test_2k_540p", "png")):
        for k in range(3):
            for i in (1, 2, 3):
                save(tmp_path / "atd" / split_dir / f"clip{k}" / f"frame{i}.{ext}", rand_img(rng))
    assert len(load(f"atd12k:{tmp_path / 'atd'}", "test")) == 3
    assert len(load(f"atd12k:{tmp_path / 'atd'}", "train")) + len(load(f"atd12k:{tmp_path / 'atd'}", "val")) == 3

    mb = tmp_path / "mb"
    for seq in ("Beanbags", "Walking"):
        save(mb / "other-data" / seq / "frame10.png", rand_img(rng))
        save(mb / "other-data" / seq / "frame11.png", rand_img(rng))
        save(mb / "other-gt-interp" / seq / "frame10i11.png", rand_img(rng))
    ds = load(f"middlebury:{mb}", "test")
    assert len(ds) == 2 and ds[0].name.endswith("frame10i11.png")


def test_input_gt_layout_of_vfi_releases(tmp_path: Path) -> None:
    """``input/<seq>/frame10.png, frame11.png`` + ``gt/<seq>/frame10i11.png``: Middlebury and DAVIS as shipped."""
    rng = np.random.default_rng(3)
    root = tmp_path / "davis"
    imgs = {}
    for seq in ("bear", "car-turn", "dog"):
        for rel in (f"input/{seq}/frame10.png", f"input/{seq}/frame11.png", f"gt/{seq}/frame10i11.png"):
            imgs[rel] = rand_img(rng)
            save(root / rel, imgs[rel])
    for name in ("davis", "middlebury"):
        ds = load(f"{name}:{root}", "test")
        assert len(ds) == 3
        tri = ds[1]
        assert np.array_equal(tri.img0, imgs["input/car-turn/frame10.png"])
        assert np.array_equal(tri.imgt, imgs["gt/car-turn/frame10i11.png"])
        assert np.array_equal(tri.img1, imgs["input/car-turn/frame11.png"])
        assert tri.t == 0.5
    (root / "gt" / "dog" / "frame10i11.png").unlink()
    with pytest.raises(DataError, match="dog"):
        load(f"davis:{root}", "test")
    with pytest.raises(DataError, match="evaluation set"):
        load(f"davis:{root}", "train")

    for seq in ("a", "b"):
        for i in range(12):
            save(tmp_path / "adobe" / seq / f"{i:05d}.png", rand_img(rng))
    frames = load(f"adobe240:{tmp_path / 'adobe'}", "train", spans=(2, 4))
    # 12 frames: train holds frames 0..9 (80%, rounded) -> 8 span-2 windows + 6*3 span-4 windows per clip
    assert len(frames) == 2 * (8 + 18)


def test_video_file_and_folder(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    frames = np.stack([rand_img(rng, 16, 16) for _ in range(20)])
    frames = np.clip(frames // 4 + 96, 0, 255).astype(np.uint8)  # no cut-sized jumps between frames
    (tmp_path / "vids").mkdir()
    write_video(tmp_path / "vids" / "a.mkv", frames)
    one = load(f"video:{tmp_path / 'vids' / 'a.mkv'}", "train")
    assert len(one) == 14  # frames 0..15, windows 0..13
    assert len(load(f"video:{tmp_path / 'vids'}", "train")) == 14


def test_mixing_with_synthetic_hits_the_ratio(tmp_path: Path) -> None:
    base = load("synthetic:30", "val")
    mixed = MixedTriplets(base, SyntheticTriplets("train", 10), 0.5)
    assert len(mixed) == 60 and mixed[45].name.startswith("synthetic/train")
    with pytest.raises(DataError, match="mix ratio"):
        MixedTriplets(base, base, 1.5)


# --- bad input -----------------------------------------------------------------------------------------
def test_bad_specs() -> None:
    with pytest.raises(DataError, match="unknown dataset 'vimeo'"):
        parse_spec("vimeo:/x")
    with pytest.raises(DataError, match="needs a path"):
        parse_spec("ucf101")
    with pytest.raises(DataError, match="synthetic:COUNT"):
        parse_spec("synthetic:lots")


def test_missing_path_empty_list_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load(f"vimeo_triplet:{tmp_path / 'nope'}", "test")
    (tmp_path / "tri_testlist.txt").write_text("\n")
    with pytest.raises(DataError, match=r"tri_testlist\.txt: list file is empty"):
        load(f"vimeo_triplet:{tmp_path}", "test")
    (tmp_path / "tri_testlist.txt").write_text("00009/0001\n")
    with pytest.raises(DataError, match=r"00009/0001: listed in tri_testlist\.txt but missing"):
        load(f"vimeo_triplet:{tmp_path}", "test")


def test_corrupt_image_and_mixed_sizes_fail_on_access(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    seq = tmp_path / "sequences" / "00001" / "0001"
    save(seq / "im1.png", rand_img(rng))
    save(seq / "im2.png", rand_img(rng, 24, 30))
    (seq / "im3.png").write_bytes(b"garbage")
    (tmp_path / "tri_testlist.txt").write_text("00001/0001\n")
    ds = load(f"vimeo_triplet:{tmp_path}", "test")
    with pytest.raises(DataError, match=r"im3\.png: not a readable image"):
        ds[0]
    save(seq / "im3.png", rand_img(rng))
    with pytest.raises(DataError, match="differ in size"):
        ds[0]


def test_eval_sets_refuse_training(tmp_path: Path) -> None:
    root = shared_or_skip("ucf101_adacof")
    with pytest.raises(DataError, match="evaluation set"):
        load(f"ucf101:{root}", "train")


def test_undecodable_video_in_a_folder(tmp_path: Path) -> None:
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 2048)
    with pytest.raises(DataError, match=r"bad\.mp4: cannot be decoded"):
        load(f"video:{tmp_path}", "train")
