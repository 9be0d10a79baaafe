"""Write a new op and check its gradient: a "hard tanh" clip(x, -1, 1)."""

import numpy as np

import glassnet as gn


class HardTanh(gn.Function):
    """y = clip(x, -1, 1).   dy/dx = 1 inside (-1, 1), 0 outside."""

    @staticmethod
    def forward(ctx, x):
        inside = np.abs(x) < 1
        ctx.save_for_backward(inside)
        return np.clip(x, -1, 1)

    @staticmethod
    def backward(ctx, grad_y):
        (inside,) = ctx.saved_tensors
        return grad_y * inside


x = gn.tensor(np.array([-3.0, -0.5, 0.2, 0.9, 2.0]), requires_grad=True)
HardTanh.apply(x).sum().backward()
print("gradient:", x.grad.tolist())  # [0, 1, 1, 1, 0]
assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
assert gn.gradcheck(HardTanh.apply, (x,))
print("gradcheck passed")
