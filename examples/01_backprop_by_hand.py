"""Backprop by hand for one neuron, then the same with glassnet.

    loss = (relu(w * x + b) - target)^2

Forward, then the chain rule from the loss back to w and b, one factor at a time.
"""

import glassnet as gn

x, target = 2.0, 0.25
w, b = 0.75, -0.5

# forward, keeping every intermediate value
z = w * x + b  # 1.0
y = max(z, 0.0)  # 1.0 (relu)
loss = (y - target) ** 2  # 0.5625

# backward: multiply the local derivatives from the loss down
dloss_dy = 2 * (y - target)  # d(y - t)^2 / dy
dy_dz = 1.0 if z > 0 else 0.0  # relu passes the gradient only where z > 0
dloss_dz = dloss_dy * dy_dz
dloss_dw = dloss_dz * x  # dz/dw = x
dloss_db = dloss_dz * 1.0  # dz/db = 1
print(f"by hand:  loss {loss:.4f}  dL/dw {dloss_dw:.4f}  dL/db {dloss_db:.4f}")

# glassnet records the same operations and runs the same chain rule
w_t = gn.tensor(w, dtype=gn.float64, requires_grad=True)
b_t = gn.tensor(b, dtype=gn.float64, requires_grad=True)
loss_t = (gn.relu(w_t * x + b_t) - target) ** 2
loss_t.backward()
print(
    f"glassnet: loss {loss_t.item():.4f}  dL/dw {w_t.grad.item():.4f}  dL/db {b_t.grad.item():.4f}"
)

assert abs(w_t.grad.item() - dloss_dw) < 1e-12 and abs(b_t.grad.item() - dloss_db) < 1e-12
