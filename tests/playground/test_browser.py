"""The playground in a real browser: headless Debian chromium driven by Playwright, against
the ``glassnet playground`` command itself. What a newcomer does, checked: the page loads
clean, a network learns spirals, the boundary moves, one backward pass is stepped through,
gradcheck agrees, Export gives files glassnet reads and code that runs, a bad width is
refused while the server keeps going, and two pages train two networks.

``GLASSNET_SCREENSHOTS=1`` also writes the screenshots in docs/ (this is their recipe)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed")
pytest.importorskip("uvicorn", reason="the playground extra is not installed")
pytest.importorskip("playwright", reason="the test extra (playwright) is not installed")

import glassnet as gn

DOCS = Path(__file__).resolve().parents[2] / "docs"
LAST_TRAIN_LOSS = """() => {
  const f = window.playground.frame; if (!f) return null;
  const h = f.history.train; return h.length ? h[h.length - 1] : null;
}"""


def _open(page, playground, errors: list | None = None):
    if errors is not None:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(playground.url)
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    return page


def _screenshot(page, name: str, tmp_path: Path) -> None:
    folder = DOCS if os.environ.get("GLASSNET_SCREENSHOTS") == "1" else tmp_path
    page.screenshot(path=str(folder / name), full_page=True)


def test_the_page_loads_without_errors(page, playground) -> None:
    errors: list[str] = []
    _open(page, playground, errors)
    assert page.title() == "glassnet playground"
    assert page.input_value("#dataset") == "spirals"
    assert page.locator("#layers li").count() == 2
    page.wait_for_function("() => window.playground.frames >= 1")
    time.sleep(0.5)
    assert errors == []


def test_spirals_learn_and_the_boundary_moves(page, playground, tmp_path) -> None:
    """Two hidden layers on spirals, Play: the loss falls below 0.1 within 30 s, frames
    arrive at 10 per second or more, and the heat map differs between two frames."""
    _open(page, playground)
    page.select_option("#dataset", "spirals")
    page.click("#build")
    page.click("#play")
    page.wait_for_function("() => window.playground.frame && window.playground.frame.step > 0")
    before = page.evaluate("() => document.getElementById('boundary').toDataURL()")
    frames = page.evaluate("() => window.playground.frames")
    time.sleep(2.0)
    rate = (page.evaluate("() => window.playground.frames") - frames) / 2.0
    after = page.evaluate("() => document.getElementById('boundary').toDataURL()")
    assert rate >= 10, f"{rate} frames per second"
    assert before != after
    page.wait_for_function(
        f"() => ({LAST_TRAIN_LOSS})() !== null && ({LAST_TRAIN_LOSS})() < 0.1", timeout=30_000
    )
    assert float(page.text_content("#status-loss")) < 0.1
    page.click("#pause")
    page.wait_for_function("() => !window.playground.frame.playing")
    _screenshot(page, "playground.png", tmp_path)


def test_stepping_through_one_backward_pass(page, playground, tmp_path) -> None:
    _open(page, playground)
    page.click("#step")
    page.click("#backward")
    page.wait_for_selector("#node-rule")
    assert page.text_content("#node-title").startswith("LabelCrossEntropy")
    assert "label highlighted" in page.text_content("#node-detail")
    assert page.locator("#node-detail td.label").count() >= 1  # the label's p - 1, marked
    page.click("#next-node")
    page.click("#next-node")
    assert page.text_content("#node-title") == "ReLU: output shape (32, 16)"
    assert "max(x, 0)" in page.text_content("#node-rule")
    detail = page.text_content("#node-detail")
    assert "gradient arriving (dL/d output) shape (32, 16)" in detail
    assert "gradient sent to op 4 shape (32, 16)" in detail
    assert page.text_content("#node-position") == "op 3 of 6 (backward order)"
    _screenshot(page, "playground-backprop.png", tmp_path)


def test_the_gradcheck_button(page, playground) -> None:
    _open(page, playground)
    page.select_option("#gradcheck-param", "2.weight")
    page.click("#gradcheck")
    page.wait_for_function(
        "() => document.getElementById('gradcheck-result').textContent.includes('relative error')"
    )
    text = page.text_content("#gradcheck-result")
    error = float(re.search(r"relative error (\S+)", text).group(1))
    assert error < 1e-6 and "256 of 256 elements" in text


def test_export_gives_weights_glassnet_reads_and_code_that_runs(page, playground, tmp_path) -> None:
    _open(page, playground)
    page.click("#play")
    page.wait_for_function("() => window.playground.frame.step > 500")
    page.click("#pause")
    page.wait_for_function("() => !window.playground.frame.playing")
    page.click("#export")
    page.wait_for_function(
        "() => document.getElementById('code').textContent.includes('nn.Sequential')"
    )
    with page.expect_download() as download:
        page.click("#download-model")
    download.value.save_as(tmp_path / "model.safetensors")
    state = gn.load(tmp_path / "model.safetensors")
    assert state["0.weight"].shape == (16, 2) and state["4.weight"].shape == (2, 16)
    (tmp_path / "train.py").write_text(page.text_content("#code"))
    loaded = subprocess.run([sys.executable, "train.py", "--load"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    shown = page.evaluate("() => window.playground.frame.accuracy.test")
    assert loaded.stdout.strip() == f"test accuracy {100 * shown:.1f}%"


def test_a_bad_width_is_refused_and_the_server_keeps_running(page, playground) -> None:
    _open(page, playground)
    page.fill("#layers li:nth-child(1) input", "0")
    page.click("#build")
    page.wait_for_function("() => document.getElementById('error').textContent !== ''")
    assert (
        page.text_content("#error") == "layer 1: width must be a whole number from 1 to 256; got 0"
    )
    assert "invalid" in page.get_attribute("#layers li:nth-child(1) input", "class")
    page.fill("#lr", "fast")
    page.fill("#layers li:nth-child(1) input", "8")
    page.click("#build")
    page.wait_for_function(
        "() => document.getElementById('error').textContent.startsWith('learning rate')"
    )
    page.fill("#lr", "0.01")
    page.click("#build")
    page.wait_for_function("() => document.getElementById('error').textContent === ''")
    page.click("#step")
    page.wait_for_function("() => window.playground.frame.step === 1")
    assert page.text_content("#layer-stats").startswith("layer 1: 0 Linear(2 -> 8), 1 ReLU")


def test_two_pages_train_their_own_networks(context, playground) -> None:
    first, second = _open(context.new_page(), playground), _open(context.new_page(), playground)
    second.select_option("#dataset", "circles")
    second.click("#build")
    second.wait_for_function("() => window.playground.frame.settings.dataset === 'circles'")
    for p in (first, second):
        p.click("#play")
    for p in (first, second):
        p.wait_for_function("() => window.playground.frame.step > 200")
    assert first.evaluate("() => window.playground.id") != second.evaluate(
        "() => window.playground.id"
    )
    assert first.evaluate("() => window.playground.frame.settings.dataset") == "spirals"
    first.click("#pause")
    first.wait_for_function("() => !window.playground.frame.playing")
    paused = first.evaluate("() => window.playground.frame.step")
    now = second.evaluate("() => window.playground.frame.step")
    second.wait_for_function(f"() => window.playground.frame.step > {now + 100}")
    assert first.evaluate("() => window.playground.frame.step") == paused  # one paused, one trains


def test_the_naive_softmax_preset_stops_with_the_reason(page, playground) -> None:
    _open(page, playground)
    page.select_option("#preset", "naive vs stable softmax")
    page.wait_for_function("() => window.playground.frame.settings.loss === 'naive_softmax_log'")
    assert "log(softmax(z))" in page.text_content("#preset-about")
    page.click("#play")
    page.wait_for_function(
        "() => document.getElementById('stopped').textContent !== ''", timeout=30_000
    )
    assert "overflows float32" in page.text_content("#stopped")
    assert page.is_disabled("#play")


def test_the_hidden_softmax_preset_shows_its_jacobian(page, playground, tmp_path) -> None:
    _open(page, playground)
    page.select_option("#preset", "softmax in a hidden layer")
    page.wait_for_function("() => window.playground.frame.settings.layers.length === 3")
    page.click("#step")
    page.click("#backward")
    page.wait_for_selector("#node-rule")
    page.click("#graph li:nth-child(5) button")  # Linear, ReLU, Linear, then the Softmax
    assert page.text_content("#node-title") == "Softmax: output shape (32, 8)"
    detail = page.text_content("#node-detail")
    assert "J = diag(s) - s s^T shape (8, 8)" in detail and "J^T g = s * (g - g . s)" in detail


def test_ctrl_c_stops_the_server_with_a_page_open(page) -> None:
    from tests.playground.conftest import Playground

    server = Playground()
    _open(page, server)
    page.click("#play")
    page.wait_for_function("() => window.playground.frame.step > 0")
    status, printed = server.stop(timeout=15)
    assert status == 0, printed
    assert "glassnet playground: stopped" in printed and "Traceback" not in printed


def test_the_page_says_so_when_the_server_stops(page) -> None:
    from tests.playground.conftest import Playground

    server = Playground()
    _open(page, server)
    page.wait_for_function("() => window.playground.frames >= 1")
    status, _ = server.stop(timeout=15)
    assert status == 0
    page.wait_for_selector("#banner:not([hidden])", timeout=15_000)
    banner = page.text_content("#banner")  # "stopped", or "lost" if the close was abrupt
    assert "playground server" in banner and "Start" in banner and "reload the page" in banner


def test_seven_pages_at_once_all_stay_live(context, playground) -> None:
    """A browser keeps at most six HTTP connections per host: the live line is a WebSocket,
    so a seventh page is as live as the first."""
    pages = [_open(context.new_page(), playground) for _ in range(7)]
    for p in pages:
        p.wait_for_function("() => window.playground.frames >= 1")
    last = pages[-1]
    last.click("#step")
    last.wait_for_function("() => window.playground.frame.step === 1")
    for p in pages:
        p.close()


def test_a_new_build_clears_what_was_shown_of_the_old_network(page, playground) -> None:
    _open(page, playground)
    page.click("#backward")
    page.wait_for_selector("#node-rule")
    page.click("#gradcheck")
    page.wait_for_function(
        "() => document.getElementById('gradcheck-result').textContent.includes('relative error')"
    )
    page.select_option("#dataset", "moons")  # a change builds at once
    page.wait_for_function("() => document.getElementById('node-rule') === null")
    assert page.evaluate("() => window.playground.frame.settings.dataset") == "moons"
    assert page.text_content("#gradcheck-result") == "" and page.locator("#graph li").count() == 0


def test_step_shows_the_new_loss_and_a_stopped_run_says_why(page, playground) -> None:
    _open(page, playground)
    page.click("#step")
    page.wait_for_function("() => window.playground.frame.step === 1")
    assert page.evaluate("() => window.playground.frame.history.step.slice(-1)[0]") == 1
    page.select_option("#dataset", "digits")
    page.wait_for_function("() => window.playground.frame.settings.dataset === 'digits'")
    page.click("#layers li:nth-child(2) button")  # remove the second layer: builds
    page.wait_for_function("() => window.playground.frame.settings.layers.length === 1")
    page.select_option("#optimizer", "momentum")
    page.wait_for_function("() => window.playground.frame.settings.optimizer === 'momentum'")
    page.fill("#lr", "10")
    page.press("#lr", "Enter")  # Enter builds
    page.wait_for_function("() => window.playground.frame.settings.lr === 10")
    page.click("#play")
    page.wait_for_function("() => window.playground.frame.stopped !== null", timeout=30_000)
    assert "press Build" in page.text_content("#stopped")
    page.click("#step")
    page.wait_for_function("() => document.getElementById('watch-error').textContent !== ''")
    assert "diverged" in page.text_content("#watch-error")


def test_a_reload_keeps_the_settings(page, playground) -> None:
    _open(page, playground)
    page.select_option("#dataset", "circles")
    page.wait_for_function("() => window.playground.frame.settings.dataset === 'circles'")
    page.fill("#layers li:nth-child(1) input", "5")
    page.press("#layers li:nth-child(1) input", "Enter")
    page.wait_for_function("() => decodeURIComponent(location.hash).includes('\"width\":5')")
    page.reload()
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    assert page.input_value("#dataset") == "circles"
    assert page.input_value("#layers li:nth-child(1) input") == "5"
    assert page.evaluate("() => window.playground.frame.settings.layers[0].width") == 5


def test_changes_made_while_a_build_runs_are_not_lost(page, playground) -> None:
    _open(page, playground)
    page.select_option("#dataset", "xor")  # builds...
    page.select_option("#optimizer", "sgd")  # ...and this change lands while it runs
    page.fill("#seed", "3")
    page.press("#seed", "Enter")
    page.wait_for_function(
        "() => { const s = window.playground.frame.settings;"
        " return s.dataset === 'xor' && s.optimizer === 'sgd' && s.seed === 3; }"
    )


def test_enter_then_a_click_elsewhere_builds_once_and_keeps_playing(page, playground) -> None:
    """Enter builds; the field's change event when it then loses focus must not build the
    same settings again (that would restart the network and could stop Play)."""
    _open(page, playground)
    builds = page.evaluate("() => window.playground.frame.build")
    page.fill("#lr", "0.02")
    page.press("#lr", "Enter")
    page.wait_for_function("() => window.playground.frame.settings.lr === 0.02")
    page.click("#watch-title")  # the lr field loses focus: a change event
    page.click("#play")
    page.wait_for_function("() => window.playground.frame.step > 300")
    assert page.evaluate("() => window.playground.frame.build") == builds + 1
    assert page.evaluate("() => window.playground.frame.playing")
