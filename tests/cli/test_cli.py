"""The glassnet command, run as a user runs it: in a subprocess, checking what it prints,
what it writes, and its exit status."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn

SRC = str(Path(gn.__file__).resolve().parents[1])


def glassnet(
    *args: str, check: bool = True, cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    env = dict(os.environ if env is None else env)
    # the glassnet under test, also when cwd moves away from a relative PYTHONPATH=src
    env["PYTHONPATH"] = os.pathsep.join([SRC, env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-m", "glassnet", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    result = glassnet("train", "--epochs", "4", "--out", str(out))
    return out, result


def test_version() -> None:
    assert glassnet("--version").stdout.strip() == f"glassnet {gn.__version__}"


@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_every_subcommand_has_help(command) -> None:
    result = glassnet(command, "--help")
    assert "usage: glassnet" in result.stdout and command in result.stdout


def test_train_writes_the_run_and_reports(digits_run) -> None:
    out, result = digits_run
    for name in ("model.safetensors", "config.json", "history.json", "checkpoint.safetensors"):
        assert (out / name).is_file(), name
    assert "epoch   4/4" in result.stdout
    assert "test accuracy" in result.stdout and "confusion matrix" in result.stdout
    assert "macro avg" in result.stdout
    history = json.loads((out / "history.json").read_text())
    assert history["epoch"] == [1, 2, 3, 4] and "seconds" not in history
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["hidden"] == [256, 128] and config["classes"][3] == "3"


def test_saved_model_rebuilds_and_matches_the_reported_accuracy(digits_run) -> None:
    out, result = digits_run
    config = json.loads((out / "config.json").read_text())
    m = config["model"]
    model = gn.train.mlp(
        m["in_features"], m["hidden"], m["num_classes"], m["activation"], m["dropout"]
    )
    model.load_state_dict(gn.load(out / "model.safetensors"))
    splits = gn.data.load_digits()
    mean, std = np.array(config["standardize"]["mean"]), np.array(config["standardize"]["std"])
    x = ((splits.x_test - mean) / std).astype(np.float32)
    accuracy = (gn.predict(model, x).numpy().argmax(1) == splits.y_test).mean()
    assert f"test accuracy {accuracy:.4f}" in result.stdout
    evaluated = glassnet("evaluate", str(out))
    assert f"test accuracy {accuracy:.4f}" in evaluated.stdout
    assert "confusion matrix" in evaluated.stdout


def test_predict_from_npy_and_csv(digits_run, tmp_path) -> None:
    out, _ = digits_run
    splits = gn.data.load_digits()
    samples = splits.x_test[:6]
    np.save(tmp_path / "x.npy", samples)
    with open(tmp_path / "x.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"pixel{i}" for i in range(64)])
        writer.writerows(samples.tolist())
    for name in ("x.npy", "x.csv"):
        rows = list(
            csv.reader(
                glassnet("predict", str(out), "--input", str(tmp_path / name)).stdout.splitlines()
            )
        )
        assert rows[0][:3] == ["row", "prediction", "probability"] and len(rows) == 7
        probabilities = np.array([[float(v) for v in r[3:]] for r in rows[1:]])
        np.testing.assert_allclose(probabilities.sum(1), 1, atol=1e-3)
        assert [r[1] for r in rows[1:]] == [str(p) for p in probabilities.argmax(1)]
        assert np.mean([int(r[1]) for r in rows[1:]] == splits.y_test[:6]) >= 0.8


def test_same_seed_same_history(tmp_path) -> None:
    for name in ("a", "b"):
        glassnet("train", "--epochs", "2", "--dataset", "spirals", "--out", str(tmp_path / name))
    assert (tmp_path / "a/history.json").read_bytes() == (tmp_path / "b/history.json").read_bytes()
    assert (tmp_path / "a/model.safetensors").read_bytes() == (
        tmp_path / "b/model.safetensors"
    ).read_bytes()


def test_stop_and_resume_equals_one_run(tmp_path) -> None:
    glassnet("train", "--epochs", "6", "--dataset", "moons", "--out", str(tmp_path / "once"))
    first = glassnet(
        "train",
        "--epochs",
        "6",
        "--dataset",
        "moons",
        "--stop-after",
        "3",
        "--out",
        str(tmp_path / "twice"),
    )
    assert "continue with --resume" in first.stdout
    glassnet("train", "--resume", "--out", str(tmp_path / "twice"))
    once, twice = tmp_path / "once", tmp_path / "twice"
    assert (once / "model.safetensors").read_bytes() == (twice / "model.safetensors").read_bytes()
    assert (once / "history.json").read_bytes() == (twice / "history.json").read_bytes()


def test_train_on_a_csv_with_named_classes(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 3))
    label = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    with open(tmp_path / "data.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "c", "answer"])
        writer.writerows([[*map(str, row), lab] for row, lab in zip(x, label)])
    out = tmp_path / "run"
    glassnet(
        "train",
        "--csv",
        str(tmp_path / "data.csv"),
        "--target",
        "answer",
        "--epochs",
        "30",
        "--out",
        str(out),
    )
    assert json.loads((out / "config.json").read_text())["classes"] == ["no", "yes"]
    result = glassnet("predict", str(out), "--input", str(tmp_path / "data.csv"))
    rows = list(csv.reader(result.stdout.splitlines()))[1:]
    assert np.mean([r[1] for r in rows] == label) > 0.9


BAD_ARGUMENTS = [
    (["train", "--dataset", "imagenet"], "argument --dataset: invalid choice: 'imagenet'"),
    (
        ["train", "--hidden", "128,abc"],
        "hidden sizes must be comma-separated whole numbers like 256,128; 'abc' is not one",
    ),
    (["train", "--lr", "-0.1"], "argument --lr: must be a positive number, got -0.1"),
    (["train", "--epochs", "0"], "argument --epochs: must be a positive whole number, got 0"),
    (["train", "--csv", "no/such.csv", "--target", "y"], "--csv: no such file: no/such.csv"),
    (["train", "--csv", "x.csv"], "--csv needs --target COLUMN"),
    (["train", "--dataset", "mnist"], "--dataset mnist needs --data FOLDER"),
    (
        ["train", "--dataset", "mnist", "--data", "no/such/folder"],
        "train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) is missing",
    ),
    (["train", "--dropout", "1.5"], "--dropout must be below 1, got 1.5"),
    (["evaluate", "no/such/run"], "no/such/run is not a glassnet run folder"),
    (["predict", "no/such/run", "--input", "x.npy"], "is not a glassnet run folder"),
    (["train", "--frobnicate"], "glassnet train: error: unrecognized arguments: --frobnicate"),
    (
        ["train", "--hiden", "64"],
        "glassnet train: error: unrecognized arguments: --hiden 64 (did you mean --hidden?)",
    ),
    (
        ["train", "--hiden", "64", "--batchsize=3", "--lr", "1"],
        "unrecognized arguments: --hiden 64 --batchsize=3 (did you mean --hidden for --hiden, "
        "--batch-size for --batchsize?)",
    ),
    (
        ["evaluate", "run", "--datset", "moons"],
        "glassnet evaluate: error: unrecognized arguments: --datset moons (did you mean "
        "--dataset?)",
    ),
    (["train", "--dataset", "moon"], "invalid choice: 'moon' (did you mean moons?)"),
    (["train", "--optimizer", "adm"], "invalid choice: 'adm' (did you mean adam?)"),
    (["train", "--activation", "rellu"], "invalid choice: 'rellu' (did you mean relu?)"),
    (["trian"], "glassnet: error: argument COMMAND: invalid choice: 'trian' (did you mean train?)"),
    (["explain", "softmx"], "glassnet explain: error: unknown op 'softmx' (did you mean softmax?)"),
    (["gradcheck", "sigmiod"], "unknown op 'sigmiod' (did you mean sigmoid?)"),
]


@pytest.mark.parametrize(
    ("args", "message"), BAD_ARGUMENTS, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_bad_arguments_exit_2_with_one_line(args, message, tmp_path) -> None:
    result = glassnet(*args, cwd=tmp_path, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_predict_with_wrong_feature_count_is_a_clear_error(digits_run, tmp_path) -> None:
    out, _ = digits_run
    np.save(tmp_path / "x.npy", np.zeros((2, 10), np.float32))
    result = glassnet("predict", str(out), "--input", str(tmp_path / "x.npy"), check=False)
    assert result.returncode == 2
    assert "the input has 10 features per sample, the model was trained on 64" in result.stderr


def test_divergence_exits_1_with_advice_and_keeps_the_checkpoint(tmp_path) -> None:
    out = tmp_path / "run"
    glassnet("train", "--dataset", "spirals", "--epochs", "2", "--out", str(out))
    before = (out / "checkpoint.safetensors").read_bytes()
    result = glassnet(
        "train",
        "--dataset",
        "spirals",
        "--epochs",
        "3",
        "--optimizer",
        "sgd",
        "--lr",
        "1e30",
        "--out",
        str(out),
        "--overwrite",
        check=False,
    )
    assert result.returncode == 1
    assert "training diverged" in result.stderr and "lower the learning rate" in result.stderr
    assert "Traceback" not in result.stderr
    assert (out / "checkpoint.safetensors").read_bytes() == before
    assert json.loads((out / "config.json").read_text())["training"]["lr"] == 1e-3


def _one_line_error(result: subprocess.CompletedProcess, status: int) -> str:
    assert result.returncode == status, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unwritable_out_is_refused_before_the_first_epoch(tmp_path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    cases = [
        ("afile", "--out: afile is a file, not a folder"),
        ("afile/sub", "--out: cannot create afile/sub: afile is a file, not a folder"),
        ("/proc/glassnet-forbidden", "--out: cannot write to /proc/glassnet-forbidden"),
    ]
    for out, message in cases:
        result = glassnet(
            "train", "--dataset", "xor", "--epochs", "1", "--out", out, cwd=tmp_path, check=False
        )
        line = _one_line_error(result, 2)
        assert line.startswith("glassnet train: error: ") and message in line, line
        assert "epoch" not in result.stdout  # refused before training started
    assert (tmp_path / "afile").read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # nothing left behind


def test_an_os_error_while_working_is_one_line_naming_the_path(digits_run, tmp_path) -> None:
    out, _ = digits_run
    np.save(tmp_path / "x.npy", np.zeros((1, 64), np.float32))
    (tmp_path / "afile").write_text("")
    result = glassnet(
        "predict",
        str(out),
        "--input",
        str(tmp_path / "x.npy"),
        "--output",
        str(tmp_path / "afile" / "p.csv"),
        check=False,
    )
    line = _one_line_error(result, 1)
    assert str(tmp_path / "afile" / "p.csv") in line and "Not a directory" in line


def test_runs_without_out_go_to_new_numbered_folders(tmp_path) -> None:
    for folder in ("train", "train2"):
        result = glassnet("train", "--dataset", "xor", "--epochs", "1", cwd=tmp_path)
        assert f"saving to runs/{folder}/" in result.stdout
        assert f"saved to runs/{folder}/" in result.stdout
        assert (tmp_path / "runs" / folder / "model.safetensors").is_file()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["train", "train2"]


def test_out_holding_a_run_needs_resume_or_overwrite(tmp_path) -> None:
    out = str(tmp_path / "run")
    glassnet("train", "--dataset", "xor", "--epochs", "2", "--out", out)
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    refused = glassnet("train", "--dataset", "xor", "--epochs", "1", "--out", out, check=False)
    line = _one_line_error(refused, 2)
    assert "already holds a run" in line and "--resume" in line and "--overwrite" in line
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before

    resumed = glassnet("train", "--resume", "--out", out)
    assert resumed.stdout.strip().splitlines() == [
        f"{out} is already complete (2 of 2 epochs); nothing to resume. Score it with: "
        f"glassnet evaluate {out}"
    ]
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before

    # --overwrite: the old run's files go once the new run has an epoch of its own
    glassnet("train", "--dataset", "xor", "--epochs", "3", "--stop-after", "1", "--out", out,
             "--overwrite")  # fmt: skip
    assert json.loads((tmp_path / "run" / "history.json").read_text())["epoch"] == [1]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["training"]["epochs"] == 3


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "export", "gradcheck"])
def test_help_shows_every_default(command) -> None:
    from glassnet.cli import build_parser

    text = " ".join(glassnet(command, "--help").stdout.split())  # undo argparse's wrapping
    parser = build_parser().subcommands[command]
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        # the option's entry: from its name (after the usage line) to the next option
        entry = text.split(f" {action.option_strings[-1]} ", 1)[1].split(" --", 1)[0]
        if action.default is not None and action.default is not False:
            assert "(default: " in entry, (action.option_strings, entry)
    if command == "train":
        for expected in (
            "--lr LR learning rate (default: 0.001)",
            "(default: 40)",
            "samples per step (default: 32)",
            "update rule (default: adamw)",
            "(default: 256,128)",
            "(default: a new folder runs/train, runs/train2, ...)",
        ):
            assert expected in text


def _without_matplotlib(tmp_path: Path) -> dict:
    """An environment in which ``import matplotlib`` fails, as when it is not installed."""
    shim = tmp_path / "shim" / "matplotlib"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(shim.parent), env.get("PYTHONPATH", "")])
    return env


def test_curves_png_without_matplotlib_is_skipped_with_the_extra_that_brings_it(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    env = _without_matplotlib(tmp_path)
    args = ("train", "--dataset", "xor", "--epochs", "1")
    result = glassnet(*args, "--out", str(tmp_path / "a"), env=env)
    assert (
        "curves.png skipped: matplotlib is missing; pip install 'glassnet[plot]' brings it"
        in result.stdout.splitlines()
    )
    assert not (tmp_path / "a" / "curves.png").exists()
    assert (tmp_path / "a" / "model.safetensors").is_file()

    refused = glassnet(*args, "--plot", "--out", str(tmp_path / "b"), env=env, check=False)
    line = _one_line_error(refused, 2)
    assert "--plot needs matplotlib: pip install 'glassnet[plot]'" in line
    assert "epoch" not in refused.stdout and not (tmp_path / "b").exists()

    glassnet(*args, "--out", str(tmp_path / "c"))  # matplotlib present: drawn
    assert (tmp_path / "c" / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    quiet = glassnet(*args, "--no-plot", "--out", str(tmp_path / "d"), env=env)
    assert not (tmp_path / "d" / "curves.png").exists() and "curves.png" not in quiet.stdout


def _cross_entropy(logits: np.ndarray, y: np.ndarray, smoothing: float = 0.0) -> float:
    """PyTorch's CrossEntropyLoss(label_smoothing=s), written out in float64."""
    z = logits.astype(np.float64)
    log_p = z - z.max(1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
    plain = -log_p[np.arange(len(y)), y]
    return float(((1 - smoothing) * plain - smoothing * log_p.mean(1)).mean())


def test_printed_losses_agree_with_their_names(tmp_path) -> None:
    out = tmp_path / "run"
    result = glassnet("train", "--dataset", "xor", "--epochs", "1", "--out", str(out), "--no-plot")
    config = json.loads((out / "config.json").read_text())
    m = config["model"]
    model = gn.train.mlp(
        m["in_features"], m["hidden"], m["num_classes"], m["activation"], m["dropout"]
    )
    model.load_state_dict(gn.load(out / "model.safetensors"))
    splits = gn.data.make_xor(generator=np.random.default_rng(0))
    mean, std = np.array(config["standardize"]["mean"]), np.array(config["standardize"]["std"])
    logits = gn.predict(model, ((splits.x_test - mean) / std).astype(np.float32)).numpy()
    epoch_line = next(line for line in result.stdout.splitlines() if line.startswith("epoch"))
    smoothed = float(epoch_line.split("test loss (label-smoothed) ")[1].split()[0])
    assert "train loss (label-smoothed) " in epoch_line
    assert smoothed == pytest.approx(_cross_entropy(logits, splits.y_test, 0.1), abs=2e-4)
    final = float(result.stdout.split("test cross-entropy ")[1].split()[0])
    assert final == pytest.approx(_cross_entropy(logits, splits.y_test), abs=2e-4)
    assert abs(final - smoothed) > 1e-3  # the two really are different numbers

    plain = glassnet("train", "--dataset", "xor", "--epochs", "1", "--label-smoothing", "0",
                     "--out", str(tmp_path / "plain"), "--no-plot")  # fmt: skip
    assert "train cross-entropy " in plain.stdout and "label-smoothed" not in plain.stdout


def test_predict_takes_a_1d_array_as_one_sample(digits_run, tmp_path) -> None:
    out, _ = digits_run
    sample = gn.data.load_digits().x_test[7]
    np.save(tmp_path / "one.npy", sample)
    rows = list(csv.reader(glassnet("predict", str(out), "--input", str(tmp_path / "one.npy"))
                           .stdout.splitlines()))  # fmt: skip
    assert len(rows) == 2  # the header and one sample
    config = json.loads((out / "config.json").read_text())
    m = config["model"]
    model = gn.train.mlp(
        m["in_features"], m["hidden"], m["num_classes"], m["activation"], m["dropout"]
    )
    model.load_state_dict(gn.load(out / "model.safetensors"))
    mean, std = np.array(config["standardize"]["mean"]), np.array(config["standardize"]["std"])
    z = gn.predict(model, ((sample[None] - mean) / std).astype(np.float32)).numpy()[0]
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose([float(v) for v in rows[1][3:]], p, atol=1e-4)

    np.save(tmp_path / "short.npy", np.zeros(10, np.float32))
    refused = glassnet("predict", str(out), "--input", str(tmp_path / "short.npy"), check=False)
    line = _one_line_error(refused, 2)
    assert "a 1-D array of 10 numbers; one sample has 64 features" in line
    assert "(samples, 64)" in line


def test_predict_compares_csv_column_names_with_training(tmp_path) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((60, 3))
    label = (x[:, 0] > 0).astype(int)

    def write(name: str, columns: list[str], order: list[int]) -> str:
        with open(tmp_path / name, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            writer.writerows([[*row[order], lab] for row, lab in zip(x, label)])
        return str(tmp_path / name)

    train = write("train.csv", ["a", "b", "c", "y"], [0, 1, 2])
    out = str(tmp_path / "run")
    glassnet("train", "--csv", train, "--target", "y", "--epochs", "1", "--out", out, "--no-plot")
    assert json.loads((tmp_path / "run" / "config.json").read_text())["feature_names"] == [
        "a",
        "b",
        "c",
    ]
    renamed = write("renamed.csv", ["a", "b", "d", "y"], [0, 1, 2])
    line = _one_line_error(glassnet("predict", out, "--input", renamed, check=False), 2)
    assert "differ from the training data's (missing c; not in the training data: d)" in line
    # the same columns in another order are put back in the training order
    same = glassnet("predict", out, "--input", train).stdout
    shuffled = write("shuffled.csv", ["c", "a", "b", "y"], [2, 0, 1])
    assert glassnet("predict", out, "--input", shuffled).stdout == same


def test_explain_takes_a_family_name_and_prints_the_op_that_holds_its_derivation():
    from glassnet.inspect.explain import ALIASES, OPS

    for alias, name in ALIASES.items():
        assert name in OPS, f"alias {alias!r} points at unregistered op {name!r}"
    out = subprocess.run(
        [sys.executable, "-m", "glassnet", "explain", "conv"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("conv is computed by glassnet.ops.conv.Conv")
    assert "def backward" in out


def test_export_numpy_gives_what_predict_gives(digits_run, tmp_path) -> None:
    """glassnet export DIR --format numpy: model.py and weights.npz that need only NumPy,
    with the run's feature scaling built in, predicting what 'glassnet predict' does."""
    out, _ = digits_run
    result = glassnet("export", str(out), "--format", "numpy", "--out", str(tmp_path / "np"))
    assert "model.py" in result.stdout and "forward(x)" in result.stdout
    raw = gn.data.load_digits().x_test[:9]
    np.save(tmp_path / "np" / "x.npy", raw)
    code = "import numpy as np, model; print(model.load('weights.npz')(np.load('x.npy')).argmax(1).tolist())"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    exported = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path / "np", capture_output=True, text=True,
        env=env, check=True,
    ).stdout  # fmt: skip
    rows = list(
        csv.reader(
            glassnet(
                "predict", str(out), "--input", str(tmp_path / "np" / "x.npy")
            ).stdout.splitlines()
        )
    )
    assert exported.strip() == str([int(r[1]) for r in rows[1:]])


def test_export_needs_a_destination(digits_run) -> None:
    out, _ = digits_run
    result = glassnet("export", str(out), check=False)
    assert (
        result.returncode != 0
        and "--onnx FILE" in result.stderr
        and "--format numpy" in result.stderr
    )


def test_train_compile_reaches_the_same_accuracy(digits_run, tmp_path) -> None:
    """glassnet train --compile: the same digits run as without it, to the same test
    accuracy (the updates are the same to float32 rounding)."""
    _, eager = digits_run
    result = glassnet("train", "--epochs", "4", "--compile", "--out", str(tmp_path / "c"))
    line = next(x for x in eager.stdout.splitlines() if x.startswith("test accuracy"))
    again = next(x for x in result.stdout.splitlines() if x.startswith("test accuracy"))
    assert again.split(",")[0] == line.split(",")[0]
    assert "runs eagerly" not in result.stderr  # the default digits MLP compiles


def test_compile_shows_the_step_of_a_run_and_of_the_default_model(digits_run) -> None:
    out, _ = digits_run
    summary = glassnet("compile", str(out)).stdout
    assert "training step of Sequential at batch 32" in summary and "Linear x3" in summary
    shown = glassnet("compile", str(out), "--show", "--batch", "8").stdout
    assert "def train_step(x, y):" in shown and "Input x (8, " in shown
    compile(shown, "<shown>", "exec")  # the printed text is Python
    forward = glassnet("compile", "--forward", "--show").stdout
    assert "def forward(x):" in forward and "Dropout" not in forward  # eval mode: none
