"""Past one machine: move a glassnet model into PyTorch and train it with
DistributedDataParallel. Here two processes on this computer (the gloo backend, CPU);
across machines, only the rendezvous address changes.

    python examples/08_train_on_many_processes_with_pytorch.py

Needs PyTorch (glassnet's tests pin torch==2.13.0). Each process trains on its own half
of the data; DDP averages the gradients, so both end with identical weights.
"""

import os
import sys
import tempfile

import numpy as np

import glassnet as gn


def train(rank: int, world_size: int, rendezvous: str, out: str) -> None:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group(
        "gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world_size
    )
    gn.manual_seed(0)  # every process starts from the same glassnet model
    model = gn.interop.to_torch(gn.train.mlp(2, [32, 32], 3))
    ddp = DistributedDataParallel(model)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=0.01)
    splits = gn.data.make_spirals(200, 3, generator=np.random.default_rng(0))
    x = torch.from_numpy(splits.x_train[rank::world_size])  # this process's shard
    y = torch.from_numpy(splits.y_train[rank::world_size])
    for _ in range(300):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(ddp(x), y).backward()  # gradients all-reduced here
        optimizer.step()
    # back to glassnet, e.g. to inspect it or to export it to ONNX
    trained = gn.interop.from_torch(model)
    gn.save(trained.state_dict(), os.path.join(out, f"rank{rank}.safetensors"))
    dist.destroy_process_group()


if __name__ == "__main__":
    try:
        import torch.multiprocessing as mp
    except ImportError:
        sys.exit("this example needs PyTorch")
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(train, args=(2, os.path.join(tmp, "rendezvous"), tmp), nprocs=2)
        first, second = (gn.load(os.path.join(tmp, f"rank{r}.safetensors")) for r in (0, 1))
        assert all(np.array_equal(first[k].numpy(), second[k].numpy()) for k in first)
        model = gn.train.mlp(2, [32, 32], 3)
        model.load_state_dict(first)
        splits = gn.data.make_spirals(200, 3, generator=np.random.default_rng(0))
        accuracy = gn.evaluate(model, splits.test)["accuracy"]
        print(f"2 processes, identical weights in both; test accuracy {accuracy:.1%}")
        assert accuracy > 0.9
