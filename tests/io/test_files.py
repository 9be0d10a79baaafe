"""Saving and loading: safetensors round trips, atomic writes, and refusing what is not
safetensors (a pickle above all) without running or creating anything."""

from __future__ import annotations

import os
import pickle
import re
import struct

import numpy as np
import pytest

import glassnet as gn

DTYPES = [
    np.float16,
    np.float32,
    np.float64,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.bool_,
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_round_trip_of_every_dtype(tmp_path, dtype) -> None:
    rng = np.random.default_rng(0)
    arrays = {
        "matrix": (rng.standard_normal((3, 4)) * 10).astype(dtype),
        "scalar": np.array(7).astype(dtype),
        "empty": np.zeros((0, 2), dtype=dtype),
    }
    gn.save(arrays, tmp_path / "a.safetensors")
    loaded = gn.load(tmp_path / "a.safetensors")
    assert list(loaded) == list(arrays)  # order kept
    for key, value in arrays.items():
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape
        np.testing.assert_array_equal(loaded[key].numpy(), value)
        loaded[key].numpy()[...] = 0  # owned, writable arrays


def test_model_round_trip_and_safetensors_library_reads_it(tmp_path) -> None:
    model = gn.nn.Sequential(gn.nn.Linear(3, 4), gn.nn.BatchNorm1d(4), gn.nn.Linear(4, 2))
    model(gn.randn(5, 3))
    gn.save(model.state_dict(), tmp_path / "m.safetensors")
    from safetensors.numpy import load_file

    theirs = load_file(tmp_path / "m.safetensors")
    assert set(theirs) == set(model.state_dict())
    twin = gn.nn.Sequential(gn.nn.Linear(3, 4), gn.nn.BatchNorm1d(4), gn.nn.Linear(4, 2))
    twin.load_state_dict(gn.load(tmp_path / "m.safetensors"))
    for (k, a), b in zip(model.state_dict().items(), twin.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


class _CreatesAFile:
    """Unpickling this would create a file: the classic pickle exploit, made harmless."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("suffix", [".pkl", ".safetensors", ".pt", ".npz", ".bin"])
def test_a_pickle_is_refused_and_runs_nothing(tmp_path, suffix) -> None:
    marker = tmp_path / "pwned.txt"
    payload = tmp_path / f"model{suffix}"
    payload.write_bytes(pickle.dumps({"weight": _CreatesAFile(str(marker))}))
    with pytest.raises(ValueError, match=r"not a valid safetensors file|not a safetensors file"):
        gn.load(payload)
    model = gn.nn.Linear(2, 2)
    with pytest.raises(ValueError):
        gn.io.load_checkpoint(payload, model)
    assert not marker.exists()


def test_every_truncation_of_a_file_is_a_clean_error(tmp_path) -> None:
    gn.save({"w": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.ones(3)}, tmp_path / "f")
    raw = (tmp_path / "f").read_bytes()
    for length in range(len(raw)):
        (tmp_path / "t").write_bytes(raw[:length])
        with pytest.raises(ValueError):
            gn.load(tmp_path / "t")


def test_header_lies_are_refused(tmp_path) -> None:
    def write(header: bytes, body: bytes = b"") -> str:
        path = tmp_path / "lie.safetensors"
        path.write_bytes(struct.pack("<Q", len(header)) + header + body)
        return str(path)

    path = tmp_path / "short.safetensors"
    path.write_bytes(struct.pack("<Q", 500) + b"{}")
    with pytest.raises(ValueError, match="header claims 500 bytes"):
        gn.load(path)
    huge = struct.pack("<Q", 2**62)
    (tmp_path / "big").write_bytes(huge + b"{}")
    with pytest.raises(ValueError, match="header claims"):
        gn.load(tmp_path / "big")
    offsets_past_end = b'{"w":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}'
    with pytest.raises(ValueError):
        gn.load(write(offsets_past_end, b"\0" * 16))
    with pytest.raises(ValueError):
        gn.load(write(b'{"w":{"dtype":"Q99","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4))
    with pytest.raises(ValueError, match="not UTF-8 JSON"):
        gn.load(write(b"\xff\xfe{}"))
    with pytest.raises(ValueError, match="not UTF-8 JSON"):
        gn.load(write(b"[" * 100_000 + b"]" * 100_000))


def test_save_is_atomic_when_serialising_fails(tmp_path) -> None:
    path = tmp_path / "model.safetensors"
    gn.save({"w": np.ones(3, np.float32)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="only Tensors and NumPy arrays"):
        gn.save({"w": np.ones(3, np.float32), "bad": "text"}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temp files left


def test_checkpoint_round_trip_restores_optimizer_and_scheduler(tmp_path) -> None:
    gn.manual_seed(0)
    model = gn.nn.Sequential(gn.nn.Linear(3, 5), gn.nn.ReLU(), gn.nn.Linear(5, 2))
    opt = gn.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    sched = gn.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    for _ in range(3):
        opt.zero_grad()
        model(gn.randn(4, 3)).sum().backward()
        opt.step()
        sched.step()
    gn.io.save_checkpoint(tmp_path / "c", model, opt, sched, epoch=3, note="hello")
    gn.manual_seed(1)
    model2 = gn.nn.Sequential(gn.nn.Linear(3, 5), gn.nn.ReLU(), gn.nn.Linear(5, 2))
    opt2 = gn.optim.Adam(model2.parameters(), lr=0.5)
    sched2 = gn.optim.lr_scheduler.OneCycleLR(opt2, max_lr=0.2, total_steps=10)
    extra = gn.io.load_checkpoint(tmp_path / "c", model2, opt2, sched2)
    assert extra == {"epoch": 3, "note": "hello"}
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert opt2.param_groups[0]["betas"] == opt.param_groups[0]["betas"]
    assert isinstance(opt2.param_groups[0]["betas"], tuple)
    assert sched2.state_dict() == sched.state_dict()
    for p, q in zip(opt.state.values(), opt2.state.values()):
        assert p["step"] == q["step"]
        np.testing.assert_array_equal(p["exp_avg"], q["exp_avg"])
        np.testing.assert_array_equal(p["max_exp_avg_sq"], q["max_exp_avg_sq"])


def test_a_state_dict_file_is_not_a_checkpoint(tmp_path) -> None:
    model = gn.nn.Linear(2, 2)
    gn.save(model.state_dict(), tmp_path / "plain")
    with pytest.raises(ValueError, match="not a glassnet checkpoint"):
        gn.io.load_checkpoint(tmp_path / "plain", model)


def test_no_unsafe_loader_in_the_source() -> None:
    root = os.path.join(os.path.dirname(gn.__file__))
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".py"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                text = f.read()
            for bad in ("import pickle", "pickle.load", "allow_pickle=True"):
                assert bad not in text, f"{name} contains {bad}"
            assert not re.search(r"(?<![\w.])torch\.load\(", text), f"{name} calls torch.load"
            for line in text.splitlines():
                code = line.strip()
                # gn.compile runs the step it has just written in memory (never a file's
                # text): that one exec, in compile/step.py, is allowed
                ours = name == "step.py" and code.startswith("exec(compile(source, filename,")
                if not code.startswith("def ") and not ours:  # Module.eval() is PyTorch's
                    assert not re.search(r"(?<![\w.])(eval|exec)\(", code), f"{name}: {code}"
                if "np.load(" in line:
                    assert "allow_pickle=False" in line, f"{name}: {line.strip()}"


def _raw_file(tmp_path, header: bytes, body: bytes = b""):
    path = tmp_path / "crafted.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + body)
    return path


def test_duplicate_keys_are_refused(tmp_path) -> None:
    header = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
    with pytest.raises(ValueError, match="the key 'w' appears twice"):
        gn.load(_raw_file(tmp_path, header, b"\0" * 8))


def test_overlapping_tensors_are_refused(tmp_path) -> None:
    header = b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}'
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        gn.load(_raw_file(tmp_path, header, b"\0" * 12))


def test_a_5_gb_declared_tensor_is_refused_before_allocation(tmp_path) -> None:
    import resource

    n = 5 * 1024**3 // 4
    header = f'{{"w":{{"dtype":"F32","shape":[{n}],"data_offsets":[0,{n * 4}]}}}}'.encode()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        gn.load(_raw_file(tmp_path, header, b"\0" * 64))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100
