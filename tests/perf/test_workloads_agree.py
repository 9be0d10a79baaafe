"""The benchmark's workloads do the same work: eager glassnet, the compiled step and the
hand-written NumPy step end with the same weights after the same steps (so their timings
compare like with like), and the exported forward file predicts what the model does."""

from __future__ import annotations

import numpy as np
from benchmarks.workloads import Glassnet, GlassnetCompiled, GlassnetExported, NumpyFused


def test_sgd_workloads_reach_the_same_weights() -> None:
    eager, compiled, by_hand = (w("train-sgd", 8) for w in (Glassnet, GlassnetCompiled, NumpyFused))
    for i in range(6):
        for w in (eager, compiled, by_hand):
            w.step(i % 4)
    for k, (layer, w_hand) in enumerate(zip((0, 2, 4), by_hand.wt)):
        want = eager.model[layer].weight.data
        for got in (compiled.model[layer].weight.data, w_hand.T):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())
        np.testing.assert_allclose(by_hand.b[k], eager.model[layer].bias.data, atol=1e-6)


def test_inference_workloads_agree() -> None:
    eager, compiled, exported = (
        w("infer", 4) for w in (Glassnet, GlassnetCompiled, GlassnetExported)
    )
    x = eager.x[0]
    want = eager.model(eager.xs[0]).data
    np.testing.assert_allclose(compiled.compiled(x).data, want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(exported.forward(x), want, rtol=1e-6, atol=1e-6)
