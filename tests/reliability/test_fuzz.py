"""Fuzzing the two parsers of untrusted files: the safetensors reader and load_csv.

Random and mutated inputs (hypothesis, a few thousand examples, about half a minute in
all) may only ever raise the documented ValueError: never another exception, a crash or
a hang.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassnet as gn
from glassnet.io.safetensors_io import from_bytes, to_bytes

VALID = to_bytes(
    {
        "w": np.arange(12, dtype=np.float32).reshape(3, 4),
        "b": np.ones(3, np.int64),
        "s": np.array(True),
    },
    {"note": "fuzz"},
)
FUZZ = settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck))


@st.composite
def mutated(draw):
    raw = bytearray(VALID)
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "header"]))
        if not raw:
            break
        i = draw(st.integers(0, len(raw) - 1))
        if action == "flip":
            raw[i] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del raw[i:]
        elif action == "insert":
            raw[i:i] = draw(st.binary(min_size=1, max_size=16))
        else:  # rewrite the header length
            raw[:8] = draw(st.integers(0, 2**64 - 1)).to_bytes(8, "little")
    return bytes(raw)


@FUZZ
@given(raw=st.one_of(mutated(), st.binary(max_size=256)))
def test_safetensors_reader_only_raises_value_error(raw: bytes) -> None:
    try:
        arrays, _ = from_bytes(raw)
    except ValueError:
        return
    for array in arrays.values():  # what does load must be well-formed arrays
        assert isinstance(array, np.ndarray)


cell = st.one_of(
    st.from_regex(r"-?[0-9]{1,3}(\.[0-9]{1,2})?", fullmatch=True),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=6),
    st.sampled_from(["", "nan", "inf", "1e400", '"', "a,b", "\n"]),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=st.lists(st.lists(cell, min_size=1, max_size=4), min_size=0, max_size=8))
def test_load_csv_only_raises_value_error(rows, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    lines = ["a,b,y"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        splits = gn.data.load_csv(path, target="y")
    except ValueError:
        return
    assert np.isfinite(splits.x_train).all() and splits.x_train.shape[1] == 2
