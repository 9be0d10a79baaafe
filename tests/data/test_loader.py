"""DataLoader, random_split and Standardize."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.data import DataLoader, Dataset, Standardize, TensorDataset, random_split


class Squares(Dataset):
    """A map-style dataset with Python items: the general (per-sample) path."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return np.float32(i), i * i


def test_batches_cover_the_data_in_order_without_shuffle() -> None:
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert isinstance(batches[0][0], gn.Tensor) and batches[0][0].dtype == np.float32
    assert np.concatenate([b[1].numpy() for b in batches]).tolist() == list(range(10))
    assert len(DataLoader(TensorDataset(x, y), batch_size=4)) == 3
    assert len(list(DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True))) == 2


def test_shuffle_is_a_permutation_and_repeats_with_the_seed() -> None:
    y = np.arange(100)

    def order(seed):
        loader = DataLoader(
            TensorDataset(y), batch_size=7, shuffle=True, generator=np.random.default_rng(seed)
        )
        return np.concatenate([b.numpy() for b in loader])

    assert sorted(order(0)) == list(range(100))
    np.testing.assert_array_equal(order(0), order(0))
    assert not np.array_equal(order(0), order(1))
    gn.manual_seed(3)
    a = np.concatenate([b.numpy() for b in DataLoader(TensorDataset(y), 10, shuffle=True)])
    gn.manual_seed(3)
    b = np.concatenate([b.numpy() for b in DataLoader(TensorDataset(y), 10, shuffle=True)])
    np.testing.assert_array_equal(a, b)


def test_general_path_collates_samples() -> None:
    _, ys = zip(*[(b[0].numpy(), b[1].numpy()) for b in DataLoader(Squares(), batch_size=4)])
    assert np.concatenate(ys).tolist() == [i * i for i in range(10)]


def test_fast_path_on_a_subset_matches_the_general_path() -> None:
    x = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    y = np.arange(20)
    train, test = random_split(
        TensorDataset(x, y), [0.75, 0.25], generator=np.random.default_rng(0)
    )
    assert len(train) == 15 and len(test) == 5
    assert set(train.indices).isdisjoint(test.indices)
    fast = np.concatenate([b[0].numpy() for b in DataLoader(train, batch_size=4)])
    slow = np.concatenate(
        [b[0].numpy() for b in DataLoader(train, batch_size=4, collate_fn=gn.data.default_collate)]
    )
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(fast, x[train.indices])


def test_loader_and_dataset_errors() -> None:
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=0)
    with pytest.raises(ValueError, match="the dataset is empty"):
        DataLoader(TensorDataset(np.zeros((0, 2))), batch_size=1)
    with pytest.raises(ValueError, match=r"same length \(first dimension\), got \[3, 2\]"):
        TensorDataset(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="add up to 9, but the dataset has 10"):
        random_split(TensorDataset(np.zeros(10)), [5, 4])


def test_standardize_uses_training_statistics_only() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(5, 2, (1000, 3)).astype(np.float32)
    train[:, 2] = 7.0  # a constant feature
    test = rng.normal(0, 1, (10, 3)).astype(np.float32)
    scaler = Standardize().fit(train)
    z = scaler.transform(train)
    np.testing.assert_allclose(z[:, :2].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z[:, :2].std(0), 1, atol=1e-5)
    assert np.all(z[:, 2] == 0)  # centred, not divided by zero
    np.testing.assert_allclose(
        scaler.transform(test),
        (test - train.mean(0)) / np.where(train.std(0) > 0, train.std(0), 1),
        rtol=1e-5,
    )
    assert scaler.transform(test).dtype == np.float32
    with pytest.raises(ValueError, match=r"fitted on features of shape \(3,\)"):
        scaler.transform(np.zeros((2, 4)))


class Transformed(Dataset):
    """A general-path dataset with NumPy work per sample (what worker threads overlap)."""

    def __init__(self) -> None:
        self.x = np.random.default_rng(1).standard_normal((37, 8, 8)).astype(np.float32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        a = self.x[i]
        return np.tanh(a @ a.T).reshape(64), i % 3


def _epochs(dataset, **kwargs) -> list[list[np.ndarray]]:
    generator = np.random.default_rng(7)
    loader = DataLoader(dataset, batch_size=5, shuffle=True, generator=generator, **kwargs)
    return [[f.numpy() for b in loader for f in b] for _ in range(2)]


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("kind", ["tensor", "subset", "general"])
def test_worker_threads_give_the_batches_of_the_main_thread(workers, kind) -> None:
    x = np.arange(74, dtype=np.float32).reshape(37, 2)
    dataset = {
        "tensor": TensorDataset(x, np.arange(37)),
        "subset": random_split(TensorDataset(x, np.arange(37)), [30, 7], np.random.default_rng(0))[
            0
        ],
        "general": Transformed(),
    }[kind]
    plain = _epochs(dataset)
    threaded = _epochs(dataset, num_workers=workers, prefetch_factor=1, pin_memory=True)
    # the reference: NumPy's permutation from the same seed, cut by hand, two epochs
    generator, n = np.random.default_rng(7), len(dataset)
    for epoch in range(2):
        order = generator.permutation(n)
        labels = [
            np.asarray([dataset[int(i)][1] for i in order[s : s + 5]]) for s in range(0, n, 5)
        ]
        assert len(threaded[epoch]) == 2 * len(labels)
        for got, want in zip(threaded[epoch][1::2], labels):
            np.testing.assert_array_equal(got, want)
        for a, b in zip(plain[epoch], threaded[epoch]):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def test_stopping_early_leaves_no_worker_threads() -> None:
    import threading

    loader = DataLoader(Transformed(), batch_size=2, num_workers=2, persistent_workers=True)
    for i, _ in enumerate(loader):
        if i == 3:
            break
    import gc

    gc.collect()
    alive = [t for t in threading.enumerate() if t.name.startswith("glassnet-loader")]
    assert alive == []


def test_worker_arguments_are_refused_where_pytorch_refuses_them() -> None:
    torch = pytest.importorskip("torch")
    data = list(range(6))
    cases = [
        {"num_workers": -1},
        {"prefetch_factor": 2},
        {"persistent_workers": True},
        {"num_workers": 2, "prefetch_factor": 3, "pin_memory": True, "persistent_workers": True},
        {"pin_memory": True},
    ]
    for kwargs in cases:
        try:
            torch.utils.data.DataLoader(data, batch_size=2, **kwargs)
            torch_refuses = False
        except ValueError:
            torch_refuses = True
        if torch_refuses:
            with pytest.raises(ValueError, match=r"DataLoader: .*num_workers"):
                DataLoader(TensorDataset(np.arange(6)), batch_size=2, **kwargs)
        else:
            loader = DataLoader(TensorDataset(np.arange(6)), batch_size=2, **kwargs)
            assert [b.numpy().tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(ValueError, match=r"num_workers must be an integer >= 0.*got -1"):
        DataLoader(TensorDataset(np.arange(6)), num_workers=-1)
