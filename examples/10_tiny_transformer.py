"""A tiny decoder-only transformer that learns to sort 8 digits, then shows where it looks.

The task is generated on the fly: "3 1 4 1 5 9 2 6 |" must be continued with
"1 1 2 3 4 5 6 9". The model reads the 17 tokens left to right with a causal mask, so each
position may only attend to the ones before it, and it is trained to predict the next
token of the sorted half. On held-out sequences it then writes the answer itself, one
token at a time (greedy decoding), and an answer counts only if all 8 digits are right.

    python examples/10_tiny_transformer.py [SEED]

Takes about 1 to 2 minutes on 2 cores. GLASSNET_QUICK=1 (as the tests run it) trains for
a few seconds and only checks that the loss falls. Saves attention_maps.png when
matplotlib is installed.
"""

import os
import sys
import time

# matrices of 64 x 256 are too small to split across threads: one BLAS thread per process
# is faster here, and much faster when other processes share the cores (set before numpy)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

import glassnet as gn

F = gn.nn.functional
QUICK = os.environ.get("GLASSNET_QUICK") == "1"
SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 0  # weights, training batches, test set
DIGITS, SEP, N = 10, 10, 8  # tokens 0-9 are digits, 10 separates question and answer
LENGTH = 2 * N  # the model reads tokens 0..15 and predicts tokens 1..16
CAUSAL = np.triu(np.ones((LENGTH, LENGTH), dtype=bool), 1)  # True above the diagonal: masked


def make_sequences(rng: np.random.Generator, count: int) -> np.ndarray:
    digits = rng.integers(0, DIGITS, size=(count, N))
    return np.concatenate([digits, np.full((count, 1), SEP), np.sort(digits, axis=1)], axis=1)


class TinyTransformer(gn.nn.Module):
    """Token and position embeddings, pre-norm transformer layers with a causal mask, and a
    linear read-out of the next token: the shape of GPT, at 70k parameters."""

    def __init__(self, d_model: int = 64, nhead: int = 4, num_layers: int = 2) -> None:
        super().__init__()
        self.tokens = gn.nn.Embedding(DIGITS + 1, d_model)
        self.positions = gn.nn.Embedding(LENGTH, d_model)
        layer = gn.nn.TransformerEncoderLayer(
            d_model, nhead, 4 * d_model, dropout=0.0, batch_first=True, norm_first=True
        )
        self.layers = gn.nn.TransformerEncoder(layer, num_layers)
        self.norm = gn.nn.LayerNorm(d_model)
        self.head = gn.nn.Linear(d_model, DIGITS + 1)

    def embed(self, tokens: np.ndarray) -> gn.Tensor:
        return self.tokens(tokens) + self.positions(np.arange(tokens.shape[1]))

    def forward(self, tokens: np.ndarray) -> gn.Tensor:
        length = tokens.shape[1]
        x = self.layers(self.embed(tokens), mask=CAUSAL[:length, :length], is_causal=True)
        return self.head(self.norm(x))


def generate(model: TinyTransformer, questions: np.ndarray) -> np.ndarray:
    """Greedy decoding: append the most likely next token N times."""
    seq = np.concatenate([questions, np.full((len(questions), 1), SEP)], axis=1)
    with gn.no_grad():
        for _ in range(N):
            nxt = model(seq).data[:, -1, :DIGITS].argmax(axis=1)
            seq = np.concatenate([seq, nxt[:, None]], axis=1)
    return seq[:, N + 1 :]


gn.manual_seed(SEED)
rng = np.random.default_rng(SEED)
held_out = make_sequences(np.random.default_rng(1000 + SEED), 2000)
seen = {row.tobytes() for row in held_out}
model = TinyTransformer()
optimizer = gn.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
steps = 40 if QUICK else 1500
schedule = gn.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)

start, losses = time.perf_counter(), []
for step in range(steps):
    batch = make_sequences(rng, 64)
    batch = batch[[row.tobytes() not in seen for row in batch]]  # never train on a test item
    logits = model(batch[:, :-1])[:, N:]  # the predictions of the 8 answer tokens
    loss = F.cross_entropy(logits.reshape(-1, DIGITS + 1), batch[:, N + 1 :].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
    losses.append(loss.item())
    if step % 250 == 0 or step == steps - 1:
        print(f"step {step:4d}  loss {np.mean(losses[-50:]):.4f}")
seconds = time.perf_counter() - start

model.eval()
answers = generate(model, held_out[:, :N])
exact = (answers == held_out[:, N + 1 :]).all(axis=1).mean()
print(f"trained {steps} steps in {seconds:.0f} s; exact match on 2000 held-out: {exact:.2%}")

# where each layer looks, for one held-out sequence: average over the heads
example = held_out[:1, :-1]
maps, x = [], model.embed(example)
with gn.no_grad():
    for layer in model.layers.layers:
        h = layer.norm1(x)
        maps.append(layer.self_attn(h, h, h, attn_mask=CAUSAL)[1].data[0])
        x = layer(x, src_mask=CAUSAL, is_causal=True)
labels = [str(t) if t < DIGITS else "|" for t in example[0]]
last = maps[-1]
# sorting by attention: to write the next digit, the last layer looks at that digit in the input
looked_at = [labels[int(last[i, :N].argmax())] for i in range(N, LENGTH)]
print("question:", " ".join(labels[:N]), " answer:", " ".join(labels[N + 1 :]), "+ next")
print("the input digit each answer step attends to most, last layer:", " ".join(looked_at))
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib not installed: no attention_maps.png")
else:
    fig, axes = plt.subplots(1, len(maps), figsize=(5 * len(maps), 4.5))
    for i, (ax, m) in enumerate(zip(np.atleast_1d(axes), maps)):
        ax.imshow(m, cmap="viridis")
        ax.set_title(f"layer {i}: attention weights")
        ax.set_xticks(range(LENGTH), labels)
        ax.set_yticks(range(LENGTH), labels)
        ax.set_xlabel("key (attended)")
        ax.set_ylabel("query (predicting the next token)")
    fig.tight_layout()
    fig.savefig("attention_maps.png", dpi=80)
    print("saved attention_maps.png")

if QUICK:
    assert np.mean(losses[-10:]) < np.mean(losses[:10]), "the loss did not fall"
else:
    assert exact >= 0.99, f"exact match {exact:.2%} is below 99%"
