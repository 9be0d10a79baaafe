"""Training 10 epochs equals training 5, checkpointing, and resuming for 5 in a new
process: bit-identical parameters (data order, dropout masks, optimizer and scheduler
state all restored)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np

import glassnet as gn

SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import glassnet as gn

    mode, folder = sys.argv[1], sys.argv[2]
    gn.manual_seed(0)
    s = gn.data.make_spirals(100, 3, generator=np.random.default_rng(0))
    model = gn.train.mlp(2, [32, 32], 3, dropout=0.3)
    opt = gn.optim.AdamW(model.parameters(), lr=0.01)
    sched = gn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    loader = gn.data.DataLoader(s.train, batch_size=16, shuffle=True)
    checkpoint = gn.train.ModelCheckpoint(folder + "/ckpt", monitor="train_loss", save_best_only=False)
    stop_at_5 = gn.train.LambdaCallback(on_epoch_end=lambda st: setattr(st, "stop_training", st.epoch == 5))
    if mode == "straight":
        gn.fit(model, gn.nn.CrossEntropyLoss(), opt, loader, 10, scheduler=sched, progress=False)
    elif mode == "first-half":
        gn.fit(model, gn.nn.CrossEntropyLoss(), opt, loader, 10, scheduler=sched,
               callbacks=[checkpoint, stop_at_5], progress=False)
    else:
        gn.fit(model, gn.nn.CrossEntropyLoss(), opt, loader, 10, scheduler=sched,
               progress=False, resume_from=folder + "/ckpt")
    gn.save(model.state_dict(), folder + "/" + mode + ".safetensors")
    """
)


def _run(mode: str, folder) -> None:
    subprocess.run([sys.executable, "-c", SCRIPT, mode, str(folder)], check=True, timeout=120)


def test_resume_in_a_new_process_is_bit_identical(tmp_path) -> None:
    for mode in ("straight", "first-half", "resume"):
        _run(mode, tmp_path)
    straight = gn.load(tmp_path / "straight.safetensors")
    half = gn.load(tmp_path / "first-half.safetensors")
    resumed = gn.load(tmp_path / "resume.safetensors")
    for key in straight:
        np.testing.assert_array_equal(straight[key].numpy(), resumed[key].numpy(), err_msg=key)
    assert any(not np.array_equal(straight[k].numpy(), half[k].numpy()) for k in straight)
