"""Bad input gets a clear error, never a number: one table of bad calls across the public
API. Each must raise ValueError, TypeError or RuntimeError (IndexError-like errors are
ValueErrors too) with a message that names the place, what was expected and what was
given; the expected text is asserted."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import glassnet as gn

nn, F, optim = gn.nn, gn.nn.functional, gn.optim
sched = gn.optim.lr_scheduler


def _params():
    return list(nn.Linear(2, 2).parameters())


def _second_backward():
    y = gn.tensor([1.0, 2.0], requires_grad=True).exp().sum()
    y.backward()
    y.backward()


def _setitem_in_graph():
    x = gn.zeros(2, requires_grad=True)
    x[0] = 1.0


def _bad_state_dict():
    nn.Linear(2, 2).load_state_dict({"weight": np.zeros((3, 2), np.float32)})


def _bad_optimizer_state():
    a = optim.SGD(_params(), lr=0.1)
    b = optim.SGD([{"params": _params()}, {"params": _params()}], lr=0.1)
    a.load_state_dict(b.state_dict())


def _pickle_file(tmp):
    path = tmp / "model.safetensors"
    path.write_bytes(pickle.dumps({"w": [1, 2, 3]}))
    return gn.load(path)


def _csv(tmp, text, target="y"):
    path = tmp / "data.csv"
    path.write_text(text)
    return gn.data.load_csv(path, target=target)


def _clip_nonfinite():
    p = nn.Parameter(np.ones(2, np.float32))
    p.grad = gn.tensor([np.nan, 1.0])
    nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


x3 = gn.zeros(3, 4)
BAD_CALLS = [
    # layers
    (
        "Linear input",
        lambda t: nn.Linear(784, 128)(gn.zeros(64, 28, 28)),
        ValueError,
        r"Linear\(784 -> 128\) expects input \(\.\.\., 784\), got \(64, 28, 28\); flatten it first",
    ),
    (
        "Linear width",
        lambda t: nn.Linear(4, 2)(gn.zeros(3, 5)),
        ValueError,
        r"Linear\(4 -> 2\) expects input \(\.\.\., 4\), got \(3, 5\)",
    ),
    (
        "Linear zero size",
        lambda t: nn.Linear(0, 3),
        ValueError,
        r"Linear: in_features must be a positive integer, got 0",
    ),
    (
        "Linear negative size",
        lambda t: nn.Linear(3, -2),
        ValueError,
        r"Linear: out_features must be a positive integer, got -2",
    ),
    (
        "Linear float size",
        lambda t: nn.Linear(3, 2.5),
        ValueError,
        r"out_features must be a positive integer, got 2\.5",
    ),
    (
        "LayerNorm input",
        lambda t: nn.LayerNorm(4)(gn.zeros(2, 5)),
        ValueError,
        r"LayerNorm\(\(4,\)\) expects input \(\.\.\., 4\), got \(2, 5\)",
    ),
    (
        "BatchNorm input",
        lambda t: nn.BatchNorm1d(4)(gn.zeros(2, 5)),
        ValueError,
        r"BatchNorm1d\(4\) expects input \(N, 4\) or \(N, 4, L\), got \(2, 5\)",
    ),
    (
        "BatchNorm 4-D",
        lambda t: nn.BatchNorm1d(4)(gn.zeros(2, 4, 3, 2)),
        ValueError,
        r"BatchNorm1d\(4\) expects .* got \(2, 4, 3, 2\)",
    ),
    (
        "BatchNorm one sample",
        lambda t: nn.BatchNorm1d(4)(gn.zeros(1, 4)),
        ValueError,
        r"more than 1 value per channel when training, got input of shape \(1, 4\)",
    ),
    (
        "Embedding index",
        lambda t: nn.Embedding(5, 2)(gn.tensor([1, 7])),
        ValueError,
        r"embedding: index 7 is out of range for 5 embeddings",
    ),
    (
        "Embedding float",
        lambda t: nn.Embedding(5, 2)(gn.tensor([1.0])),
        TypeError,
        r"embedding: indices must be integers, got dtype float32",
    ),
    (
        "Embedding size",
        lambda t: nn.Embedding(0, 2),
        ValueError,
        r"Embedding: num_embeddings must be a positive integer, got 0",
    ),
    (
        "Embedding padding",
        lambda t: nn.Embedding(5, 2, padding_idx=9),
        ValueError,
        r"padding_idx 9 must be within num_embeddings \(5\)",
    ),
    (
        "Dropout p",
        lambda t: nn.Dropout(1.5),
        ValueError,
        r"Dropout: p must be a probability in \[0, 1\], got 1\.5",
    ),
    (
        "dropout p",
        lambda t: F.dropout(x3, -0.1),
        ValueError,
        r"dropout: p must be a probability in \[0, 1\], got -0\.1",
    ),
    (
        "Sequential index",
        lambda t: nn.Sequential(nn.ReLU())[3],
        ValueError,
        r"Sequential: index 3 is out of range for 1 modules",
    ),
    (
        "mlp activation",
        lambda t: gn.train.mlp(2, [4], 2, activation="swish"),
        ValueError,
        r"mlp: unknown activation 'swish'; choose from relu",
    ),
    (
        "init gain",
        lambda t: nn.init.calculate_gain("softsign"),
        ValueError,
        r"calculate_gain: unsupported nonlinearity 'softsign'",
    ),
    (
        "init fan",
        lambda t: nn.init.kaiming_uniform_(gn.zeros(3)),
        ValueError,
        r"at least 2 dimensions, got shape \(3,\)",
    ),
    (
        "Module without init",
        lambda t: type("Broken", (nn.Module,), {"__init__": lambda s: setattr(s, "w", 1)})(),
        AttributeError,
        r"cannot assign 'w' before Module.__init__\(\) is called",
    ),
    (
        "load_state_dict",
        lambda t: _bad_state_dict(),
        RuntimeError,
        r"size mismatch for weight: the checkpoint has shape \(3, 2\), the model has \(2, 2\)",
    ),
    # losses
    (
        "CE class too big",
        lambda t: F.cross_entropy(gn.randn(4, 3), gn.tensor([0, 1, 3, 2])),
        ValueError,
        r"cross_entropy: target 3 at position \(2,\) is not a class index in \[0, 3\)",
    ),
    (
        "CE class negative",
        lambda t: F.cross_entropy(gn.randn(2, 3), gn.tensor([-1, 0])),
        ValueError,
        r"target -1 at position \(0,\)",
    ),
    (
        "CE float labels",
        lambda t: F.cross_entropy(gn.randn(4, 3), gn.tensor([0.0, 1.0, 1.0, 2.0])),
        TypeError,
        r"cross_entropy: got a float target of shape \(4,\); class-index targets must be integers",
    ),
    (
        "CE batch sizes",
        lambda t: F.cross_entropy(gn.randn(4, 3), gn.tensor([0, 1, 2])),
        ValueError,
        r"input has batch size 4 but target has 3",
    ),
    (
        "CE NaN",
        lambda t: F.cross_entropy(gn.tensor([[np.nan, 0.0]]), gn.tensor([0])),
        ValueError,
        r"cross_entropy: the input contains NaN",
    ),
    (
        "CE inf target shape",
        lambda t: F.cross_entropy(gn.randn(4, 3), gn.tensor([[0, 1, 2, 1]])),
        ValueError,
        r"cross_entropy: input has batch size 4 but target has 1",
    ),
    (
        "CE reduction",
        lambda t: F.cross_entropy(gn.randn(2, 3), gn.tensor([0, 1]), reduction="avg"),
        ValueError,
        r"reduction must be one of 'none', 'mean', 'sum', got 'avg'",
    ),
    (
        "CE 1-D input",
        lambda t: F.cross_entropy(gn.randn(3), gn.tensor([1])),
        ValueError,
        r"input must have shape \(N, C\) with a batch dimension, got \(3,\)",
    ),
    (
        "CE smoothing",
        lambda t: F.cross_entropy(gn.randn(2, 3), gn.tensor([0, 1]), label_smoothing=1.5),
        ValueError,
        r"label_smoothing must be in \[0, 1\], got 1\.5",
    ),
    (
        "CE weight shape",
        lambda t: F.cross_entropy(gn.randn(2, 3), gn.tensor([0, 1]), weight=gn.ones(4)),
        ValueError,
        r"weight must have shape \(3,\), one per class, got \(4,\)",
    ),
    (
        "CE int logits",
        lambda t: F.cross_entropy(gn.tensor([[1, 2]]), gn.tensor([0])),
        TypeError,
        r"input must be floating-point logits of shape \(N, C\), got dtype int64",
    ),
    (
        "nll float target",
        lambda t: F.nll_loss(gn.randn(2, 3), gn.tensor([0.0, 1.0])),
        TypeError,
        r"nll_loss: got a float target",
    ),
    (
        "nll class",
        lambda t: F.nll_loss(gn.randn(2, 3), gn.tensor([0, 5])),
        ValueError,
        r"nll_loss: target 5 at position \(1,\) is not a class index in \[0, 3\)",
    ),
    (
        "mse shapes",
        lambda t: F.mse_loss(gn.randn(64, 1), gn.randn(64)),
        ValueError,
        r"mse_loss: input shape \(64, 1\) and target shape \(64,\) differ",
    ),
    (
        "mse NaN",
        lambda t: F.mse_loss(gn.tensor([np.nan]), gn.tensor([1.0])),
        ValueError,
        r"mse_loss: the input contains NaN",
    ),
    (
        "l1 shapes",
        lambda t: F.l1_loss(gn.randn(3), gn.randn(4)),
        ValueError,
        r"l1_loss: input shape \(3,\) and target shape \(4,\) differ",
    ),
    (
        "bce range",
        lambda t: F.binary_cross_entropy(gn.tensor([1.5]), gn.tensor([1.0])),
        ValueError,
        r"binary_cross_entropy: input must be probabilities in \[0, 1\], got values from 1\.5",
    ),
    (
        "bce logits int target",
        lambda t: F.binary_cross_entropy_with_logits(gn.randn(2), gn.tensor([1, 0])),
        TypeError,
        r"binary_cross_entropy_with_logits: target must be float .*got dtype int64",
    ),
    (
        "huber delta",
        lambda t: F.huber_loss(gn.randn(2), gn.randn(2), delta=0.0),
        ValueError,
        r"huber_loss: delta must be positive, got 0\.0",
    ),
    (
        "smooth l1 beta",
        lambda t: F.smooth_l1_loss(gn.randn(2), gn.randn(2), beta=-1.0),
        ValueError,
        r"smooth_l1_loss: beta must be non-negative, got -1\.0",
    ),
    (
        "kl reduction",
        lambda t: F.kl_div(gn.randn(2), gn.randn(2), reduction="avg"),
        ValueError,
        r"kl_div: reduction must be one of .*'batchmean', got 'avg'",
    ),
    (
        "one_hot range",
        lambda t: F.one_hot(gn.tensor([0, 3]), num_classes=3),
        ValueError,
        r"one_hot: class values must be in \[0, 3\), got values from 0 to 3",
    ),
    # tensors and autograd
    (
        "int requires grad",
        lambda t: gn.tensor([1, 2], requires_grad=True),
        RuntimeError,
        r"only floating-point tensors can require gradients, got dtype int64",
    ),
    (
        "tensor of text",
        lambda t: gn.tensor(["a", "b"]),
        TypeError,
        r"tensor\(\) expects numbers, got data of NumPy dtype <U1 from list",
    ),
    (
        "backward non-scalar",
        lambda t: (gn.ones(2, requires_grad=True) * 2).backward(),
        RuntimeError,
        r"grad can be implicitly created only for scalar outputs, this output has shape \(2,\)",
    ),
    (
        "backward no grad",
        lambda t: gn.ones(2).sum().backward(),
        RuntimeError,
        r"backward\(\) was called on a tensor that does not require grad",
    ),
    (
        "backward int tensor",
        lambda t: gn.tensor([1, 2]).sum().backward(),
        RuntimeError,
        r"does not require grad",
    ),
    (
        "second backward",
        lambda t: _second_backward(),
        RuntimeError,
        r"ExpBackward released its saved arrays .* Pass retain_graph=True",
    ),
    (
        "gradient shape",
        lambda t: (gn.ones(2, requires_grad=True) * 2).backward(gn.ones(3)),
        RuntimeError,
        r"needs a gradient of the output's shape \(2,\), got \(3,\)",
    ),
    (
        "item",
        lambda t: gn.ones(2).item(),
        RuntimeError,
        r"item\(\) needs a tensor with exactly one element, this one has 2",
    ),
    (
        "bool",
        lambda t: bool(gn.ones(2)),
        RuntimeError,
        r"the truth value of a tensor with 2 elements is ambiguous",
    ),
    (
        "setitem in graph",
        lambda t: _setitem_in_graph(),
        RuntimeError,
        r"in-place operation \(x\[index\] = value\) on a tensor that requires grad",
    ),
    (
        "matmul shapes",
        lambda t: gn.randn(2, 3) @ gn.randn(4, 5),
        ValueError,
        r"matmul: shapes \(2, 3\) and \(4, 5\) do not fit",
    ),
    (
        "matmul scalar",
        lambda t: gn.matmul(gn.tensor(2.0), gn.randn(2)),
        ValueError,
        r"matmul: both operands need at least 1 dimension, got shapes \(\) and \(2,\)",
    ),
    (
        "linear dtypes",
        lambda t: gn.linear(gn.randn(2, 3, dtype=gn.float64), gn.randn(4, 3)),
        TypeError,
        r"linear: input, weight and bias must share one dtype, got float32, float64",
    ),
    (
        "reshape",
        lambda t: gn.randn(2, 3).reshape(4, 2),
        ValueError,
        r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into \(4, 2\)",
    ),
    (
        "softmax dim",
        lambda t: gn.softmax(gn.randn(2, 3), dim=2),
        ValueError,
        r"softmax: dim 2 is out of range for a tensor with 2 dimensions; use a dim in \[-2, 1\]",
    ),
    ("sum dim", lambda t: gn.randn(2, 3).sum(dim=-3), ValueError, r"sum: dim -3 is out of range"),
    (
        "cat empty",
        lambda t: gn.cat([]),
        ValueError,
        r"cat: expects a non-empty sequence of tensors",
    ),
    (
        "cat shapes",
        lambda t: gn.cat([gn.randn(2, 3), gn.randn(3, 4)]),
        ValueError,
        r"cat: tensor 1 has shape \(3, 4\), tensor 0 has \(2, 3\)",
    ),
    (
        "stack shapes",
        lambda t: gn.stack([gn.randn(2), gn.randn(3)]),
        ValueError,
        r"stack: tensor 1 has shape \(3,\), tensor 0 has \(2,\)",
    ),
    (
        "permute",
        lambda t: gn.randn(2, 3).permute(0, 0),
        ValueError,
        r"permute: dims \(0, 0\) must name each of the 2 dimensions exactly once",
    ),
    (
        "expand",
        lambda t: gn.randn(2, 3).expand(4, 3),
        ValueError,
        r"expand: cannot expand shape \(2, 3\) to \(4, 3\)",
    ),
    (
        "mean of ints",
        lambda t: gn.tensor([1, 2]).mean(),
        TypeError,
        r"mean\(\) needs a floating-point tensor, got dtype int64",
    ),
    (
        "amax empty",
        lambda t: gn.zeros(0, 3).amax(dim=0),
        ValueError,
        r"amax\(\): cannot reduce over an empty dimension of a tensor of shape \(0, 3\)",
    ),
    (
        "relu of ints",
        lambda t: gn.relu(gn.tensor([1, 2])),
        TypeError,
        r"relu needs a floating-point tensor, got dtype int64",
    ),
    (
        "gelu approximate",
        lambda t: gn.gelu(gn.randn(2), approximate="fast"),
        ValueError,
        r"gelu: approximate must be 'none' or 'tanh', got 'fast'",
    ),
    (
        "clamp no bounds",
        lambda t: gn.clamp(gn.randn(2)),
        ValueError,
        r"clamp needs at least one of min= and max=",
    ),
    (
        "where condition",
        lambda t: gn.where(gn.tensor([1, 0]), gn.randn(2), gn.randn(2)),
        TypeError,
        r"where: condition must be boolean, got dtype int64",
    ),
    (
        "negative size",
        lambda t: gn.zeros(-1),
        ValueError,
        r"sizes must be non-negative, got \(-1,\)",
    ),
    (
        "randint range",
        lambda t: gn.randint(5, 5, (2,)),
        ValueError,
        r"randint needs low < high, got low=5, high=5",
    ),
    (
        "manual_seed",
        lambda t: gn.manual_seed(-1),
        ValueError,
        r"manual_seed expects a non-negative integer seed, got -1",
    ),
    (
        "generator type",
        lambda t: gn.randn(2, generator=42),
        TypeError,
        r"generator must be a numpy.random.Generator, got int",
    ),
    # optimizers and schedules
    (
        "empty params",
        lambda t: optim.SGD([], lr=0.1),
        ValueError,
        r"SGD got an empty parameter list",
    ),
    (
        "negative lr",
        lambda t: optim.Adam(_params(), lr=-1.0),
        ValueError,
        r"Adam: lr must be non-negative, got -1\.0",
    ),
    (
        "betas",
        lambda t: optim.Adam(_params(), betas=(1.0, 0.999)),
        ValueError,
        r"Adam: betas must be in \[0, 1\), got \(1\.0, 0\.999\)",
    ),
    (
        "nesterov",
        lambda t: optim.SGD(_params(), lr=0.1, nesterov=True),
        ValueError,
        r"SGD: nesterov momentum needs momentum > 0 and dampening = 0",
    ),
    (
        "non-leaf param",
        lambda t: optim.SGD([gn.randn(2, requires_grad=True) * 2], lr=0.1),
        ValueError,
        r"can only optimize leaf tensors .* MulBackward",
    ),
    (
        "single tensor",
        lambda t: optim.SGD(nn.Parameter(np.zeros(2)), lr=0.1),
        TypeError,
        r"got a single Tensor; wrap it in a list",
    ),
    (
        "optimizer state",
        lambda t: _bad_optimizer_state(),
        ValueError,
        r"the saved state has 2 parameter groups, this optimizer has 1",
    ),
    (
        "StepLR",
        lambda t: sched.StepLR(optim.SGD(_params(), lr=0.1), step_size=0),
        ValueError,
        r"StepLR: step_size must be a positive integer, got 0",
    ),
    (
        "Cosine",
        lambda t: sched.CosineAnnealingLR(optim.SGD(_params(), lr=0.1), T_max=0),
        ValueError,
        r"CosineAnnealingLR: T_max must be positive, got 0",
    ),
    (
        "OneCycle",
        lambda t: sched.OneCycleLR(optim.SGD(_params(), lr=0.1), max_lr=1.0),
        ValueError,
        r"OneCycleLR: give total_steps, or both epochs and steps_per_epoch",
    ),
    (
        "Plateau",
        lambda t: sched.ReduceLROnPlateau(optim.SGD(_params(), lr=0.1), factor=1.5),
        ValueError,
        r"ReduceLROnPlateau: factor must be < 1, got 1\.5",
    ),
    (
        "scheduler type",
        lambda t: sched.StepLR("sgd", 2),
        TypeError,
        r"StepLR expects an optimizer, got str",
    ),
    (
        "clip nonfinite",
        lambda t: _clip_nonfinite(),
        RuntimeError,
        r"clip_grad_norm_: the total norm of order 2\.0 of the gradients is nan",
    ),
    # data and files
    (
        "batch size",
        lambda t: gn.data.DataLoader(gn.data.TensorDataset(np.zeros(3)), batch_size=0),
        ValueError,
        r"DataLoader: batch_size must be a positive integer, got 0",
    ),
    (
        "empty dataset",
        lambda t: gn.data.DataLoader(gn.data.TensorDataset(np.zeros((0, 2)))),
        ValueError,
        r"DataLoader: the dataset is empty",
    ),
    (
        "dataset lengths",
        lambda t: gn.data.TensorDataset(np.zeros(3), np.zeros(2)),
        ValueError,
        r"TensorDataset: all arrays must have the same length .* got \[3, 2\]",
    ),
    (
        "random_split",
        lambda t: gn.data.random_split(gn.data.TensorDataset(np.zeros(10)), [5, 4]),
        ValueError,
        r"random_split: lengths \[5, 4\] add up to 9, but the dataset has 10 samples",
    ),
    (
        "Standardize unfitted",
        lambda t: gn.data.Standardize().transform(np.zeros((2, 2))),
        RuntimeError,
        r"Standardize.transform: call fit\(x_train\) first",
    ),
    (
        "Standardize empty",
        lambda t: gn.data.Standardize().fit(np.zeros((0, 2))),
        ValueError,
        r"Standardize.fit: needs at least one sample, got shape \(0, 2\)",
    ),
    (
        "csv target",
        lambda t: _csv(t, "a,y\n1,0\n2,1\n", target="label"),
        ValueError,
        r"has no column 'label'; its columns are a, y",
    ),
    (
        "csv cell",
        lambda t: _csv(t, "a,y\n1,0\nx,1\n3,0\n4,1\n"),
        ValueError,
        r"line 3, column 'a': 'x' is not a number",
    ),
    (
        "csv nan",
        lambda t: _csv(t, "a,y\n1,0\nnan,1\n3,0\n4,1\n"),
        ValueError,
        r"line 3, column 'a': 'nan' is not a finite number",
    ),
    (
        "csv empty",
        lambda t: _csv(t, ""),
        ValueError,
        r"is empty; it needs a header row and data rows",
    ),
    (
        "csv single class row",
        lambda t: _csv(t, "a,y\n1,0\n2,1\n3,1\n"),
        ValueError,
        r"class '0' has only 1 row",
    ),
    (
        "idx junk",
        lambda t: (t / "junk").write_bytes(b"nope") and gn.data.read_idx(t / "junk"),
        ValueError,
        r"is not an IDX file",
    ),
    ("pickle file", lambda t: _pickle_file(t), ValueError, r"is not a valid safetensors file"),
    (
        "save text",
        lambda t: gn.save({"w": "text"}, t / "x.safetensors"),
        TypeError,
        r"save: value 'w' is a str; only Tensors and NumPy arrays can be saved",
    ),
    (
        "checkpoint of a state dict",
        lambda t: (
            gn.save(nn.Linear(2, 2).state_dict(), t / "s"),
            gn.io.load_checkpoint(t / "s", nn.Linear(2, 2)),
        ),
        ValueError,
        r"is a safetensors file but not a glassnet checkpoint",
    ),
    (
        "explain",
        lambda t: gn.explain("frobnicate"),
        ValueError,
        r"explain: unknown op 'frobnicate'; known ops: abs, add",
    ),
]


def test_the_table_is_large() -> None:
    assert len(BAD_CALLS) >= 60


@pytest.mark.parametrize(
    ("name", "call", "error", "message"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS]
)
def test_bad_call_raises_a_clear_error(name, call, error, message, tmp_path) -> None:
    assert issubclass(error, (ValueError, TypeError, RuntimeError)) or error is AttributeError
    with pytest.raises(error, match=message):
        call(tmp_path)


@pytest.mark.parametrize(
    "call",
    [
        lambda: gn.ones(2, 3, 4) * gn.ones(2, 4),
        lambda: gn.ones(2, 3, requires_grad=True) - gn.ones(4),
        lambda: gn.ones(3) + gn.ones(2),
        lambda: gn.maximum(gn.ones(3), gn.ones(2)),
    ],
)
def test_shapes_that_do_not_broadcast_name_the_op_and_the_fix(call) -> None:
    with pytest.raises(
        ValueError, match=r"\w+: shapes \(.*\) and \(.*\) do not broadcast.*Reshape one"
    ):
        call()
