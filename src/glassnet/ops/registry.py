"""The one list of ops: each name users call, the ``Function`` behind it, and a call to check.

Everything that walks "all the ops" reads this table: ``glassnet explain`` (the
Function's docstring and source), ``glassnet gradcheck`` (the call, on inputs of the given
shapes, against central differences), the op tests (every Function defined in
``glassnet.ops`` must be listed here, and every listed one must be exercised by the spec
table against NumPy and PyTorch) and the op table in ``docs/ops.md``.

To add an op: write its Function beside its derivation, then add one ``_op`` line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.ops import (
    activation,
    attention,
    conv,
    conv_transpose,
    dropout,
    elementwise,
    embedding,
    indexing,
    linalg,
    loss,
    norm,
    pointwise,
    pool,
    reduce,
    rnn,
    shape,
    sort,
)


@dataclass(frozen=True)
class Op:
    """One registered op.

    Attributes:
        name: the name users call (``gn.<name>``, ``F.<name>`` or a method).
        function: the ``Function`` subclass whose forward and backward compute it.
        call: a call of the op on tensors, used by ``glassnet gradcheck``.
        shapes: the shapes of the tensors ``call`` takes.
        positive: sample inputs in [0.5, 2] (log, sqrt, division), else in [-2, 2] off kinks.
    """

    name: str
    function: type
    call: Callable[..., Tensor]
    shapes: tuple[tuple[int, ...], ...]
    positive: bool = False


OPS: dict[str, Op] = {}


def _op(
    name: str,
    function: type,
    call: Callable[..., Tensor],
    *shapes: tuple[int, ...],
    positive: bool = False,
) -> None:
    OPS[name] = Op(name, function, call, shapes, positive)


_LABELS = np.array([0, 2, 1])
# short names keep one op to one line
E, R, S, L, A, P = elementwise, reduce, shape, linalg, activation, pointwise

# ------------------------------------------------------------------ elementwise
_op("add", E.Add, E.add, (3, 4), (4,))
_op("sub", E.Sub, E.sub, (3, 4), (3, 1))
_op("mul", E.Mul, E.mul, (3, 4), (3, 4))
_op("div", E.Div, E.div, (3, 4), (3, 4), positive=True)
_op("neg", E.Neg, E.neg, (3, 4))
_op("pow", E.Pow, E.pow, (3, 4), (3, 4), positive=True)
_op("exp", E.Exp, E.exp, (3, 4))
_op("log", E.Log, E.log, (3, 4), positive=True)
_op("sqrt", E.Sqrt, E.sqrt, (3, 4), positive=True)
_op("abs", E.Abs, E.abs, (3, 4))
_op("clamp", E.Clamp, lambda x: E.clamp(x, -0.5, 0.5), (3, 4))
_op("maximum", E.Maximum, E.maximum, (3, 4), (3, 4))
_op("minimum", E.Minimum, E.minimum, (3, 4), (3, 4))
_op("where", E.Where, lambda a, b: E.where(a.data > 0, a, b), (3, 4), (3, 4))
# to a wider float, so that the finite differences see every digit
_op("to", E.Cast, lambda x: E.cast(x, np.longdouble), (3, 4))

# ------------------------------------------------------------------ unary math
_op("sin", P.Sin, P.sin, (3, 4))
_op("cos", P.Cos, P.cos, (3, 4))
_op("log1p", P.Log1p, P.log1p, (3, 4), positive=True)
_op("expm1", P.Expm1, P.expm1, (3, 4))
_op("erf", P.Erf, P.erf, (3, 4))
# the step functions: their gradient is 0, which the finite differences confirm off the jumps
_op("sign", P.Sign, P.sign, (3, 4))
_op("floor", P.Floor, P.floor, (3, 4))
_op("round", P.Round, lambda x: P.round(x, decimals=1), (3, 4))

# ------------------------------------------------------------------ reductions
_op("sum", R.Sum, lambda x: R.sum(x, dim=1), (3, 4))
_op("mean", R.Mean, lambda x: R.mean(x, dim=0), (3, 4))
_op("amax", R.AMax, lambda x: R.amax(x, dim=1), (3, 4))
_op("amin", R.AMin, lambda x: R.amin(x, dim=1), (3, 4))
_op("var", R.Var, lambda x: R.var(x, dim=1), (3, 4))
_op("std", R.Std, lambda x: R.std(x, dim=1), (3, 4))
_op("logsumexp", R.LogSumExp, lambda x: R.logsumexp(x, dim=1), (3, 4))
_op("cumsum", R.CumSum, lambda x: R.cumsum(x, dim=1), (3, 4))
_op("prod", R.Prod, lambda x: R.prod(x, dim=1), (3, 4))
_op("norm", R.Norm, lambda x: R.norm(x, p=3, dim=1), (3, 4))

# ------------------------------------------------------------------ shape
_op("reshape", S.Reshape, lambda x: S.reshape(x, 4, 3), (3, 4))
_op("transpose", S.Transpose, lambda x: S.transpose(x, 0, 1), (3, 4))
_op("permute", S.Permute, lambda x: S.permute(x, 2, 0, 1), (2, 3, 4))
_op("expand", S.Expand, lambda x: S.expand(x, 2, 3, 4), (3, 1))
_op("getitem", S.GetItem, lambda x: S.getitem(x, ([0, 2, 0], slice(1, 3))), (3, 4))
_op("cat", S.Cat, lambda a, b: S.cat([a, b], dim=1), (3, 2), (3, 4))
_op("stack", S.Stack, lambda a, b: S.stack([a, b], dim=0), (3, 4), (3, 4))
_op("clone", S.Clone, S.clone, (3, 4))
_op("flip", S.Flip, lambda x: S.flip(x, (0, 2)), (2, 3, 4))
_op("repeat", S.Repeat, lambda x: S.repeat(x, 2, 1, 3), (3, 4))

# ------------------------------------------------------------------ linear algebra
_op("matmul", L.MatMul, L.matmul, (2, 3, 4), (4, 5))
_op("linear", L.Linear, L.linear, (5, 3), (4, 3), (4,))
_op("outer", L.Outer, L.outer, (3,), (4,))
_op("bmm", L.MatMul, L.bmm, (2, 3, 4), (2, 4, 5))  # bmm is matmul on 3-D operands
_op("einsum", L.Einsum, lambda a, b: L.einsum("bn,anm,bm->ba", a, b, a), (2, 3), (4, 3, 3))

# ------------------------------------------------------------------ sorting
_op("sort", sort.Sort, lambda x: sort.sort(x, dim=1, descending=True).values, (3, 4))
_op("topk", sort.Sort, lambda x: sort.topk(x, 2, dim=0).values, (3, 4))

# ------------------------------------------------------------------ activations
_op("relu", A.ReLU, A.relu, (3, 4))
_op(
    "dropout",
    dropout.Dropout,
    lambda x: dropout.dropout_op(x, 0.3, x.shape, np.random.default_rng(0)),
    (3, 4),
)
_op("leaky_relu", A.LeakyReLU, lambda x: A.leaky_relu(x, 0.1), (3, 4))
_op("elu", A.ELU, A.elu, (3, 4))
_op("gelu", A.GELU, A.gelu, (3, 4))
_op("silu", A.SiLU, A.silu, (3, 4))
_op("sigmoid", A.Sigmoid, A.sigmoid, (3, 4))
_op("tanh", A.Tanh, A.tanh, (3, 4))
_op("softplus", A.Softplus, A.softplus, (3, 4))
_op("softmax", A.Softmax, lambda x: A.softmax(x, dim=1), (3, 4))
_op("log_softmax", A.LogSoftmax, lambda x: A.log_softmax(x, dim=1), (3, 4))

# ------------------------------------------------------------------ losses, layers
_op(
    "cross_entropy",
    loss.CrossEntropy,
    lambda z: loss.cross_entropy(z, _LABELS, label_smoothing=0.1),
    (3, 4),
)
_op(
    "cross_entropy_labels",
    loss.LabelCrossEntropy,
    lambda z: loss.cross_entropy(z, _LABELS),
    (3, 4),
)
_op("nll_loss", loss.NLLLoss, lambda z: loss.nll_loss(z, _LABELS), (3, 4))
_op(
    "binary_cross_entropy",
    loss.BinaryCrossEntropy,
    lambda x, y: loss.binary_cross_entropy(A.sigmoid(x), A.sigmoid(y)),
    (3, 4),
    (3, 4),
)
_op(
    "binary_cross_entropy_with_logits",
    loss.BinaryCrossEntropyWithLogits,
    lambda x, y: loss.binary_cross_entropy_with_logits(
        x, A.sigmoid(y), pos_weight=Tensor(np.arange(1.0, 5.0))
    ),
    (3, 4),
    (3, 4),
)
_op("normalize", norm.Normalize, lambda x: norm.Normalize.apply(x, (1,), 1e-5), (3, 4))
_op(
    "running_normalize",
    norm.RunningNormalize,
    lambda x: norm.RunningNormalize.apply(
        x, np.linspace(-1, 1, 4, dtype=x.dtype), np.linspace(0.5, 2, 4, dtype=x.dtype), 1e-5
    ),
    (3, 4),
)
_op(
    "running_stats",
    norm.RunningStats,
    lambda x: norm.RunningStats.apply(
        x, Tensor(np.zeros(4)), Tensor(np.ones(4)), None, (0,), 0.1, False
    ),
    (3, 4),
)
_op(
    "embedding",
    embedding.EmbeddingLookup,
    lambda w: embedding.embedding(np.array([1, 3, 1]), w),
    (5, 2),
)

# ------------------------------------------------------------------ indexing
# indices that repeat, so that the gradients added at one place are checked too
_GATHER = np.array([[0, 3, 0], [2, 2, 1], [1, 0, 3]])
_MASK = np.array([[True, False, False, True], [False, True, True, False], [False] * 4])
IX = indexing
_op("gather", IX.Gather, lambda x: IX.gather(x, 1, _GATHER), (3, 4))
_op("scatter_add", IX.ScatterAdd, lambda x, s: IX.scatter_add(x, 1, _GATHER, s), (3, 4), (3, 3))
_op("index_select", IX.IndexSelect, lambda x: IX.index_select(x, 0, [2, 0, 2]), (3, 4))
_op("masked_fill", IX.MaskedFill, lambda x, v: IX.masked_fill(x, _MASK, v), (3, 4), ())
_op("tril", IX.Triangle, lambda x: IX.tril(x, -1), (2, 3, 4))
_op("triu", IX.Triangle, lambda x: IX.triu(x, 1), (2, 3, 4))

# ------------------------------------------------------------------ convolution
_op(
    "conv1d",
    conv.Conv,
    lambda x, w, b: conv.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2),
    (2, 4, 9),
    (6, 2, 3),
    (6,),
)
_op(
    "conv2d",
    conv.Conv,
    lambda x, w, b: conv.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2),
    (2, 4, 5, 6),
    (6, 2, 3, 2),
    (6,),
)
CT = conv_transpose
_op(
    "conv_transpose1d",
    CT.ConvTranspose,
    lambda x, w, b: CT.conv_transpose1d(x, w, b, 2, 1, output_padding=1, groups=2, dilation=2),
    (2, 4, 5),
    (4, 3, 3),
    (6,),
)
_op(
    "conv_transpose2d",
    CT.ConvTranspose,
    lambda x, w, b: CT.conv_transpose2d(x, w, b, stride=(2, 1), padding=1, output_padding=(1, 0)),
    (2, 3, 4, 3),
    (3, 2, 3, 2),
    (2,),
)

# ------------------------------------------------------------------ pooling
# overlapping windows (stride < kernel) and padding, so that gradients add where windows meet
_op(
    "max_pool1d",
    pool.MaxPool,
    lambda x: pool.max_pool1d(x, 3, stride=2, padding=1, dilation=2),
    (2, 3, 9),
)
_op(
    "max_pool2d",
    pool.MaxPool,
    lambda x: pool.max_pool2d(x, (3, 2), stride=1, padding=1),
    (2, 2, 4, 5),
)
_op("avg_pool1d", pool.AvgPool, lambda x: pool.avg_pool1d(x, 3, stride=2, padding=1), (2, 3, 8))
_op(
    "avg_pool2d",
    pool.AvgPool,
    lambda x: pool.avg_pool2d(x, 3, stride=(1, 2), padding=1, count_include_pad=False),
    (2, 2, 5, 6),
)

# ------------------------------------------------------------------ attention
# a float mask that is an input too (its gradient is dS), and keys longer than queries
_op(
    "scaled_dot_product_attention",
    attention.ScaledDotProductAttention,
    lambda q, k, v, m: attention.scaled_dot_product_attention(q, k, v, attn_mask=m),
    (2, 3, 4),
    (2, 5, 4),
    (2, 5, 3),
    (3, 5),
)

# ------------------------------------------------------------------ recurrence
# (input, hx, w_ih, w_hh, b_ih, b_hh) with input 4 -> hidden 3; the LSTM state is (h, c) stacked
_op("rnn_tanh_cell", rnn.RNNTanhCell, rnn.rnn_tanh_cell, (2, 4), (2, 3), (3, 4), (3, 3), (3,), (3,))
_op("rnn_relu_cell", rnn.RNNReLUCell, rnn.rnn_relu_cell, (2, 4), (2, 3), (3, 4), (3, 3), (3,), (3,))
_op("gru_cell", rnn.GRUCell, rnn.gru_cell, (2, 4), (2, 3), (9, 4), (9, 3), (9,), (9,))
_op(
    "lstm_cell", rnn.LSTMCell, rnn.LSTMCell.apply, (2, 4), (2, 2, 3), (12, 4), (12, 3), (12,), (12,)
)


# where each op family's derivation is written out, and the ops whose page is not their
# family's: what a compiled step's comments and the playground's rule panel point to
DOCS = {
    "glassnet.ops.linalg": "docs/mlp_by_hand.md",
    "glassnet.ops.activation": "docs/activations.md",
    "glassnet.ops.loss": "docs/cross_entropy.md",
    "glassnet.ops.conv": "docs/convolution.md",
    "glassnet.ops.pool": "docs/convolution.md",
    "glassnet.ops.rnn": "docs/recurrence.md",
    "glassnet.ops.attention": "docs/attention.md",
}
PAGES = {"Softmax": "docs/softmax.md", "LogSoftmax": "docs/softmax.md"}


def docs_page(function: type) -> str:
    """The docs page that derives ``function``'s rule (docs/ops.md for the rest)."""
    return PAGES.get(function.__name__) or DOCS.get(function.__module__, "docs/ops.md")
