"""No NumPy RuntimeWarning reaches the user from an op whose inf or NaN result is
expected: every spec of the op table, forward and backward, in float64 and float32, runs
with warnings turned into errors (the edge cases of test_edges_torch.py are run the same
way there), and so do a diverging training run and a detect_anomaly error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet as gn
from tests.ops.specs import SPECS, OpSpec, sample


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_spec_runs_without_numpy_warnings(spec: OpSpec, dtype) -> None:
    rng = np.random.default_rng(0)
    arrays = [sample(rng, shape, spec.domain(i), dtype) for i, shape in enumerate(spec.shapes)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inputs = [gn.tensor(a, requires_grad=True) for a in arrays]
        spec.fn(*inputs).sum().backward()


@pytest.mark.parametrize(
    "fn, values",
    [
        (gn.log, [0.0, 2.0]),  # log 0 = -inf, gradient 1/0 = inf
        (gn.sqrt, [0.0, 2.0]),  # gradient 1/(2 sqrt 0) = inf
        (lambda x: 1 / x, [0.0, 2.0]),  # 1 / 0 = inf
        (lambda x: gn.logsumexp(x, dim=1), [[-np.inf, -np.inf]]),
        (lambda x: gn.nn.functional.softplus(x), [-1e4, 1e4]),
        (lambda x: gn.nn.functional.sigmoid(x), [-1e4, 1e4]),
        (lambda x: gn.nn.functional.log_softmax(x, dim=1), [[-np.inf, 0.0, 1e4]]),
        (lambda x: gn.nn.functional.binary_cross_entropy(x, gn.tensor([1.0, 0.0])), [0.0, 1.0]),
    ],
    ids=["log0", "sqrt0", "div0", "lse-all-minus-inf", "softplus", "sigmoid", "masked", "bce"],
)
def test_expected_infinities_raise_no_warning(fn, values) -> None:
    x = gn.tensor(values, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn(x).sum().backward()


def _spirals_model():
    gn.manual_seed(0)
    return gn.train.mlp(2, [64, 64], 3)


def test_diverging_run_reports_without_numpy_warnings(capfd) -> None:
    spirals = gn.data.make_spirals(200, 3, noise=0.2, generator=np.random.default_rng(0))
    model = _spirals_model()
    optimizer = gn.optim.SGD(model.parameters(), lr=1e6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(gn.train.TrainingDiverged, match=r"became (nan|inf|-inf) at epoch"):
            gn.fit(model, gn.nn.CrossEntropyLoss(), optimizer, spirals.train, 5, progress=False)
    assert [str(w.message) for w in caught] == []
    assert "RuntimeWarning" not in capfd.readouterr().err


def test_detect_anomaly_error_comes_without_numpy_warnings() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with (
            pytest.raises(RuntimeError, match="LogBackward returned a gradient with inf"),
            gn.autograd.detect_anomaly(),
        ):
            gn.log(x - x).sum().backward()
    assert [str(w.message) for w in caught] == []
