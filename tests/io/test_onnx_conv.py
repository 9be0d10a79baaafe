"""ONNX export of the convolutional family: every layer (and its F. form) gives ONNX Runtime
the same outputs as glassnet's own forward in eval mode (float32, 1e-5) at batch 1 and 17
from one dynamic-batch file, and so does a small CNN end to end."""

from __future__ import annotations

import pytest

import glassnet as gn
from glassnet.autograd.function import Function

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
nn, F = gn.nn, gn.nn.functional

from tests.io.test_onnx import _check, _inputs, _move_batchnorm_statistics  # noqa: E402


class Functional(nn.Module):
    """A layer written with F. calls, as a user's own module would."""

    def __init__(self, forward, conv) -> None:
        super().__init__()
        self.conv = conv
        self.forward_fn = forward

    def forward(self, x):
        return self.forward_fn(self, x)


LAYERS = {
    "Conv1d": (lambda: nn.Conv1d(3, 5, 3), (3, 11)),
    "Conv1d stride padding dilation no bias": (
        lambda: nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, bias=False),
        (4, 13),
    ),
    "Conv1d groups same": (lambda: nn.Conv1d(4, 8, 4, padding="same", groups=2), (4, 9)),
    "Conv2d": (lambda: nn.Conv2d(3, 5, 3), (3, 8, 7)),
    "Conv2d stride padding dilation": (
        lambda: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
        (3, 9, 8),
    ),
    "Conv2d depthwise same": (lambda: nn.Conv2d(4, 4, 4, padding="same", groups=4), (4, 7, 6)),
    "Conv2d 1x1": (lambda: nn.Conv2d(3, 2, 1), (3, 5, 5)),
    "MaxPool1d": (lambda: nn.MaxPool1d(3, stride=2, padding=1), (3, 10)),
    "MaxPool1d dilation": (lambda: nn.MaxPool1d(2, stride=1, dilation=3), (2, 9)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (3, 8, 7)),
    "MaxPool2d stride padding dilation": (
        lambda: nn.MaxPool2d((3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2)),
        (2, 9, 8),
    ),
    "AvgPool1d": (lambda: nn.AvgPool1d(3, stride=2, padding=1), (3, 10)),
    "AvgPool1d count_include_pad=False": (
        lambda: nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False),
        (3, 10),
    ),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), (3, 8, 7)),
    "AvgPool2d padding count_include_pad=False": (
        lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        (2, 9, 8),
    ),
    "AvgPool2d divisor_override": (
        lambda: nn.AvgPool2d(3, stride=2, padding=1, divisor_override=4),
        (2, 9, 8),
    ),
    "AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(4), (3, 10)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((3, 4)), (2, 7, 9)),
    "AdaptiveAvgPool2d global": (lambda: nn.AdaptiveAvgPool2d(1), (3, 5, 6)),
    "AdaptiveAvgPool2d None": (lambda: nn.AdaptiveAvgPool2d((None, 2)), (3, 5, 7)),
    "BatchNorm2d (eval)": (lambda: nn.BatchNorm2d(3), (3, 5, 4)),
    "BatchNorm2d no affine": (lambda: nn.BatchNorm2d(3, affine=False), (3, 5, 4)),
    "GroupNorm": (lambda: nn.GroupNorm(2, 6), (6, 5, 4)),
    "GroupNorm instance, no bias": (lambda: nn.GroupNorm(3, 3, bias=False), (3, 5)),
    "RMSNorm": (lambda: nn.RMSNorm(6), (4, 6)),
    "RMSNorm two dims eps": (lambda: nn.RMSNorm((5, 6), eps=1e-3), (3, 5, 6)),
    "Dropout2d (eval)": (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.Dropout2d(0.5)), (3, 6, 6)),
    "Flatten": (lambda: nn.Sequential(nn.Conv2d(2, 3, 2), nn.Flatten()), (2, 5, 4)),
    "Flatten middle dims": (lambda: nn.Flatten(1, 2), (3, 4, 5)),
    "Unflatten": (lambda: nn.Sequential(nn.Unflatten(1, (2, 3, 4)), nn.Conv2d(2, 2, 2)), (24,)),
    "F.conv2d F.max_pool2d F.avg_pool2d": (
        lambda: Functional(
            lambda m, x: F.avg_pool2d(
                F.max_pool2d(F.conv2d(x, m.conv.weight, m.conv.bias, padding=1), 2), 2, 1
            ),
            nn.Conv2d(3, 4, 3),
        ),
        (3, 8, 8),
    ),
    "F.conv1d F.max_pool1d F.avg_pool1d F.adaptive_avg_pool1d": (
        lambda: Functional(
            lambda m, x: F.adaptive_avg_pool1d(
                F.avg_pool1d(F.max_pool1d(F.conv1d(x, m.conv.weight, stride=2), 2), 2), 3
            ),
            nn.Conv1d(3, 4, 3),
        ),
        (3, 20),
    ),
    "F.batch_norm F.group_norm F.rms_norm F.dropout2d F.adaptive_avg_pool2d": (
        lambda: Functional(
            lambda m, x: F.adaptive_avg_pool2d(
                F.dropout2d(
                    F.rms_norm(
                        F.group_norm(
                            F.batch_norm(x, gn.ones(3) * 0.5, gn.ones(3) * 2.0, training=False),
                            3,
                            m.conv.weight,
                        ),
                        (6,),
                    ),
                    training=False,
                ),
                2,
            ),
            nn.GroupNorm(3, 3),
        ),
        (3, 5, 6),
    ),
    "reflect padding by index_select, then Conv2d": (
        lambda: Functional(
            lambda m, x: m.conv(
                gn.index_select(
                    gn.index_select(x, 2, gn.tensor([1, 0, 1, 2, 3, 4, 3])), 3, gn.tensor([2, 1, 0])
                )
            ),
            nn.Conv2d(3, 4, 2),
        ),
        (3, 5, 3),
    ),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_onnx_runtime(name, tmp_path) -> None:
    make, shape = LAYERS[name]
    gn.manual_seed(0)
    model = make()
    _move_batchnorm_statistics(model, shape)
    _check(model, gn.randn(2, *shape), _inputs(shape, 0), tmp_path)


def test_layers_become_their_onnx_ops(tmp_path) -> None:
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.MaxPool2d(2), nn.AvgPool2d(2))
    gn.onnx.export(model, gn.randn(1, 2, 9, 9), tmp_path / "m.onnx")
    ops = [n.op_type for n in onnx.load(str(tmp_path / "m.onnx")).graph.node]
    assert ops == ["Conv", "MaxPool", "AveragePool", "Identity"]


def test_small_cnn_matches_onnx_runtime(tmp_path) -> None:
    gn.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 7 * 7, 10),
    )
    _move_batchnorm_statistics(model, (1, 14, 14))
    proto = _check(model, gn.randn(2, 1, 14, 14), _inputs((1, 14, 14), 7), tmp_path)
    names = {t.name for t in proto.graph.initializer}
    assert {"0.weight", "0.bias", "5.weight", "5.bias"} <= names


def test_a_new_op_joins_the_table_with_emits(tmp_path) -> None:
    class Square(Function):
        """y = x^2 (a user's op)."""

        @staticmethod
        def forward(ctx, x):
            return x * x

    class Model(nn.Module):
        def forward(self, x):
            return Square.apply(x)

    with pytest.raises(gn.onnx.UnsupportedOpError, match="the model uses Square, which"):
        gn.onnx.export(Model(), gn.randn(2, 3), tmp_path / "m.onnx")

    @gn.onnx.emits(Square)
    def _square(b, op):
        x = b.value(op.args[0])
        return b.node("Mul", [x, x])

    try:
        _check(Model(), gn.randn(2, 3), _inputs((3,), 1), tmp_path)
    finally:
        del gn.onnx.EMITTERS[Square]
