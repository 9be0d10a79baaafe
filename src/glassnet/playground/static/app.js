// glassnet playground: the page. It draws what the server's glassnet session computes and
// sends back what the user chooses; it computes no number of its own.
"use strict";

const COLORS = ["#f08c00", "#1c7ed6", "#2f9e44", "#e03131", "#7048e8",
                "#0c8599", "#d6336c", "#5c940d", "#862e9c", "#495057"];
const ACTIVATION_NAMES = {
  relu: "ReLU", leaky_relu: "leaky ReLU", tanh: "tanh", sigmoid: "sigmoid",
  gelu: "GELU", softmax: "softmax",
};

const state = {
  id: null,
  options: null,
  presets: {},
  points: null,
  frame: null,
  frames: 0,          // frames drawn since the page loaded (tests read the rate)
  boundaryDraws: 0,   // how often the heat map changed
  pass: null,         // the recorded backward pass
  current: 0,         // which of its nodes is shown
  socket: null,       // the live line to the server
  retries: 0,         // reconnects after a drop, in a row
  leaving: false,     // the page is being closed or reloaded
  building: false,
};
window.playground = state;

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function api(path, body) {
  const options = body === undefined ? { method: "POST" } : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    lost("cannot reach the playground server: is glassnet playground still running? "
      + "Start it again and reload the page.");
    throw new Error("the server is not reachable");
  }
  const data = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
  if (!response.ok) {
    const error = new Error(data.error || `the server answered ${response.status}`);
    error.field = data.field;
    throw error;
  }
  return data;
}

function sessionPath(rest) { return `/api/sessions/${state.id}/${rest}`; }

function showError(message, field) {
  $("error").textContent = message || "";
  for (const input of document.querySelectorAll("#build-panel input")) input.classList.remove("invalid");
  if (!field) return;
  const match = /^layers\.(\d+)\.width$/.exec(field);
  const input = match ? document.querySelectorAll("#layers input")[Number(match[1])]
    : { lr: $("lr"), batch_size: $("batch-size"), seed: $("seed") }[field];
  if (input) input.classList.add("invalid");
}

// ---------------------------------------------------------------- the Build panel
function fillSelect(select, values, names) {
  select.replaceChildren(...values.map((v) => el("option", { value: v, text: (names && names[v]) || v })));
}

function layerRow(layer) {
  const width = el("input", { type: "text", inputmode: "numeric", "aria-label": "width" });
  width.value = String(layer.width);
  const activation = el("select", { "aria-label": "activation" });
  fillSelect(activation, state.options.activations, ACTIVATION_NAMES);
  activation.value = layer.activation;
  const remove = el("button", { type: "button", title: "remove this layer", text: "x" });
  remove.addEventListener("click", () => { item.remove(); buildIfChanged(); });
  const item = el("li", {}, el("div", { class: "row" }, width, activation, remove));
  return item;
}

function showSettings(settings) {
  $("dataset").value = settings.dataset;
  $("layers").replaceChildren(...settings.layers.map(layerRow));
  $("loss").value = settings.loss;
  $("optimizer").value = settings.optimizer;
  $("lr").value = String(settings.lr);
  $("batch-size").value = String(settings.batch_size);
  $("seed").value = String(settings.seed);
}

function readSettings() {
  // sent as typed: the server checks every value and says what is wrong
  const layers = [...document.querySelectorAll("#layers li")].map((li) => ({
    width: li.querySelector("input").value.trim(),
    activation: li.querySelector("select").value,
  }));
  return {
    dataset: $("dataset").value, layers, loss: $("loss").value,
    optimizer: $("optimizer").value, lr: $("lr").value.trim(),
    batch_size: $("batch-size").value.trim(), seed: $("seed").value.trim(),
  };
}

function buildIfChanged() {
  // a field's change event also fires when it loses focus after Enter built it: building
  // the same settings again would restart the network and stop it playing
  if (JSON.stringify(readSettings()) !== state.built) build();
}

async function build() {
  if (state.building) {  // one build at a time; a change made meanwhile builds right after
    state.again = true;
    return;
  }
  state.building = true;
  state.again = false;
  const wasPlaying = Boolean(state.frame && state.frame.playing);
  try {
    const settings = readSettings();
    const data = await api(sessionPath("build"), { settings });
    state.built = JSON.stringify(settings);
    showError("");
    forgetResults();
    receive(data);
    history.replaceState(null, "", `#${encodeURIComponent(JSON.stringify(data.frame.settings))}`);
    if (wasPlaying) await control("play");
  } catch (error) {
    showError(error.message, error.field);
  } finally {
    state.building = false;
    if (state.again) buildIfChanged();
  }
}

function forgetResults() {
  // what was shown of the previous network no longer holds for the new one
  state.pass = null;
  showPass();
  $("node-detail").replaceChildren(el("p", { class: "about",
    text: "Press the button to record one backward pass of this network." }));
  $("gradcheck-result").textContent = "";
  $("code").textContent = "";
  $("downloads").hidden = true;
  for (const id of ["watch-error", "backprop-error", "export-error"]) $(id).textContent = "";
}

function applyPreset() {
  const preset = state.presets[$("preset").value];
  $("preset-about").textContent = preset ? preset.about : "";
  if (!preset) return;
  state.applyingPreset = true;
  const defaults = { dataset: "spirals", loss: "cross_entropy", optimizer: "adam", lr: 0.01,
    batch_size: 32, seed: 0 };
  const settings = Object.assign({}, defaults, preset.settings);
  settings.layers = settings.layers.map((l) => Object.assign({ activation: "relu" }, l));
  showSettings(settings);
  state.applyingPreset = false;
  build();
}

// ---------------------------------------------------------------- frames
function receive(data) {
  if (data.points !== undefined) state.points = data.points;
  if (data.parameters) fillSelect($("gradcheck-param"), data.parameters);
  if (data.frame) draw(data.frame);
}

function draw(frame) {
  const previous = state.frame;
  state.frame = frame;
  state.frames += 1;
  const history = frame.history;
  const last = (values) => { for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i]; return null; };
  $("status-step").textContent = String(frame.step);
  $("status-epoch").textContent = String(frame.epoch);
  $("status-loss").textContent = format(last(history.train));
  $("status-test-loss").textContent = format(last(history.test));
  $("status-accuracy").textContent = frame.accuracy.test === null ? "-" : `${(100 * frame.accuracy.test).toFixed(1)}%`;
  $("stopped").textContent = frame.stopped || "";
  $("play").disabled = frame.playing || Boolean(frame.stopped);
  $("pause").disabled = !frame.playing;
  if (!previous || !frame.boundary || !previous.boundary
      || previous.boundary.label !== frame.boundary.label
      || previous.boundary.confidence !== frame.boundary.confidence) {
    drawBoundary(frame.boundary);
  }
  drawCurves(history);
  drawLayers(frame.layers);
  $("warnings").replaceChildren(...frame.warnings.map((w) => el("li", { text: w })));
}

function cell(v) {
  if (v === null) return "nan";
  if (v === 0) return "0";
  return Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4 ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

function format(value) {
  if (value === null || value === undefined) return "-";
  if (value === 0) return "0";
  const size = Math.abs(value);
  return size >= 0.01 && size < 1e4 ? value.toFixed(4) : value.toExponential(2);
}

function decode(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function rgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

function drawBoundary(boundary) {
  const canvas = $("boundary");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!boundary) {
    ctx.fillStyle = "#59636e";
    ctx.font = "14px system-ui, sans-serif";
    ctx.fillText("This dataset has more than 2 features:", 20, 170);
    ctx.fillText("the input plane is for the 2-D datasets.", 20, 190);
    return;
  }
  state.boundaryDraws += 1;
  const n = boundary.size;
  const labels = decode(boundary.label);
  const confidence = decode(boundary.confidence);
  const image = new ImageData(n, n);
  const floor = 1 / boundary.classes;
  for (let i = 0; i < n * n; i++) {
    const color = rgb(COLORS[labels[i] % COLORS.length]);
    // strength 0.15 at chance level, 0.75 when certain
    const sure = Math.max(0, (confidence[i] / 255 - floor) / (1 - floor));
    const a = 0.15 + 0.6 * sure;
    for (let c = 0; c < 3; c++) image.data[4 * i + c] = Math.round(255 * (1 - a) + color[c] * a);
    image.data[4 * i + 3] = 255;
  }
  const small = document.createElement("canvas");
  small.width = n; small.height = n;
  small.getContext("2d").putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  if (!state.points) return;
  const [x0, x1, y0, y1] = boundary.extent;
  const px = (x) => ((x - x0) / (x1 - x0)) * canvas.width;
  const py = (y) => ((y1 - y) / (y1 - y0)) * canvas.height;
  const dots = (points, labelsOf, filled) => {
    points.forEach((p, i) => {
      ctx.beginPath();
      ctx.arc(px(p[0]), py(p[1]), 3.2, 0, 2 * Math.PI);
      ctx.fillStyle = COLORS[labelsOf[i] % COLORS.length];
      ctx.strokeStyle = filled ? "#ffffff" : COLORS[labelsOf[i] % COLORS.length];
      ctx.lineWidth = filled ? 1 : 1.6;
      if (filled) ctx.fill();
      ctx.stroke();
    });
  };
  dots(state.points.train, state.points.train_labels, true);
  dots(state.points.test, state.points.test_labels, false);
}

function drawCurves(history) {
  const canvas = $("curves");
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, left = 44, bottom = 22, top = 8, right = 8;
  ctx.clearRect(0, 0, w, h);
  const values = history.train.concat(history.test).filter((v) => v !== null);
  const steps = history.step;
  ctx.strokeStyle = "#d1d9e0";
  ctx.strokeRect(left, top, w - left - right, h - top - bottom);
  ctx.fillStyle = "#59636e";
  ctx.font = "11px system-ui, sans-serif";
  if (!values.length || !steps.length) return;
  const high = Math.max(...values) * 1.05 || 1;
  const lastStep = Math.max(steps[steps.length - 1], 1);
  const x = (s) => left + (s / lastStep) * (w - left - right);
  const y = (v) => top + (1 - v / high) * (h - top - bottom);
  ctx.fillText(high.toPrecision(2), 4, top + 10);
  ctx.fillText("0", 30, h - bottom);
  ctx.fillText(`step ${lastStep}`, w - 70, h - 6);
  for (const [key, color] of [["train", "#0969da"], ["test", "#d1242f"]]) {
    ctx.beginPath();
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    let started = false;
    history[key].forEach((v, i) => {
      if (v === null) { started = false; return; }
      if (started) ctx.lineTo(x(steps[i]), y(v)); else ctx.moveTo(x(steps[i]), y(v));
      started = true;
    });
    ctx.stroke();
  }
}

function drawHistogram(hist, color) {
  const canvas = el("canvas", { width: "110", height: "46" });
  if (!hist) return canvas;
  const ctx = canvas.getContext("2d");
  const most = Math.max(...hist.counts, 1);
  const barWidth = canvas.width / hist.counts.length;
  ctx.fillStyle = color;
  hist.counts.forEach((c, i) => {
    const bar = (c / most) * (canvas.height - 2);
    ctx.fillRect(i * barWidth, canvas.height - bar, Math.max(barWidth - 1, 1), bar);
  });
  return canvas;
}

function drawLayers(layers) {
  const rows = layers.map((layer) => {
    const histogramCell = (title, hist, color) => el("div", { class: "hist" },
      drawHistogram(hist, color),
      el("div", { text: hist ? `${title} [${format(hist.lo)}, ${format(hist.hi)}]` : `${title}: -` }));
    const notes = [];
    if (layer.dead !== null && layer.dead !== undefined) notes.push(`dead ReLUs ${(100 * layer.dead).toFixed(0)}%`);
    if (layer.saturated !== null && layer.saturated !== undefined) notes.push(`saturated ${(100 * layer.saturated).toFixed(0)}%`);
    if (layer.gradient_norm !== null && layer.gradient_norm !== undefined) notes.push(`|grad W| ${format(layer.gradient_norm)}`);
    return el("div", { class: "layer" },
      el("div", { class: "name", text: layer.name }),
      el("div", { class: "hists" },
        histogramCell("weights", layer.weights, "#1c7ed6"),
        histogramCell("gradients", layer.gradients, "#e03131"),
        ...(layer.activations ? [histogramCell("activations", layer.activations, "#2f9e44")] : [])),
      el("div", { class: "dead", text: notes.join(" · ") }));
  });
  $("layer-stats").replaceChildren(...rows);
}

// ---------------------------------------------------------------- controls
async function control(action) {
  try {
    const data = await api(sessionPath("control"), { action });
    $("watch-error").textContent = "";
    receive(data);
  } catch (error) {
    $("watch-error").textContent = error.message;
  }
}

// ---------------------------------------------------------------- see backprop
function arrayTable(title, array, highlight) {
  const table = el("table");
  array.values.forEach((row, r) => {
    const tr = el("tr");
    row.forEach((v, c) => {
      const td = el("td", { text: cell(v) });
      if (highlight && highlight[r] === c) td.className = "label";
      tr.append(td);
    });
    table.append(tr);
  });
  const shown = array.values.length && array.values[0].length;
  const more = shown ? "" : " (empty)";
  return el("div", { class: "array" },
    el("div", {}, el("b", { text: title }), " ",
      el("span", { class: "shape", text: `shape (${array.shape.join(", ")})${more}, norm ${format(array.norm)}` })),
    table);
}

function showPass() {
  const pass = state.pass;
  $("prev-node").disabled = !pass || state.current === 0;
  $("next-node").disabled = !pass || state.current >= pass.nodes.length - 1;
  if (!pass) {
    $("graph").replaceChildren();
    $("node-position").textContent = "";
    return;
  }
  $("node-position").textContent = `op ${state.current + 1} of ${pass.nodes.length} (backward order)`;
  // the graph, drawn from the loss down: each op, the parameters its gradient reaches
  // (chips to its right) and, where the gradient does not go on to the next op below,
  // the ops it goes to instead
  $("graph").replaceChildren(...pass.nodes.map((node, i) => {
    const button = el("button", { type: "button", class: i === state.current ? "current" : "" },
      `${i + 1}. ${node.op}`, el("span", { class: "shape", text: ` (${node.output_shape.join(", ")})` }));
    button.addEventListener("click", () => { state.current = i; showPass(); });
    const chips = node.inputs.map((input) => {
      if (input.parameter) return el("span", { class: "chip parameter", text: `grad → ${input.parameter}` });
      if (input.node !== i + 1) return el("span", { class: "chip", text: `grad → op ${input.node + 1}` });
      return null;
    }).filter(Boolean);
    const flows = node.inputs.some((input) => input.node === i + 1);
    return el("li", { class: flows ? "flows" : "" }, button, el("div", { class: "chips" }, ...chips));
  }));
  const node = pass.nodes[state.current];
  const detail = [
    el("h3", { id: "node-title", text: `${node.op}: output shape (${node.output_shape.join(", ")})` }),
    el("div", { class: "about", text: `The rule, from ${node.docs}:` }),
    el("pre", { id: "node-rule", class: "rule", text: node.rule.replace(/``/g, "") }),
  ];
  const arrays = el("div", { class: "arrays" });
  if (node.grad_out) arrays.append(arrayTable("gradient arriving (dL/d output)", node.grad_out));
  node.inputs.forEach((input) => {
    const to = input.parameter ? `parameter ${input.parameter}` : `op ${input.node + 1}`;
    if (input.grad) arrays.append(arrayTable(`gradient sent to ${to}`, input.grad));
  });
  detail.push(arrays);
  if (node.cross_entropy) {
    const ce = node.cross_entropy;
    detail.push(el("p", { class: "about", text: ce.formula }));
    detail.push(el("div", { class: "arrays" },
      arrayTable("p = softmax(z) (label highlighted)", ce.p, ce.labels),
      arrayTable("(p - y) / N", ce.grad, ce.labels)));
  }
  if (node.softmax) {
    const s = node.softmax;
    detail.push(el("p", { class: "about", text: `${s.formula} (first sample of the batch)` }));
    detail.push(el("div", { class: "arrays" },
      arrayTable("s", s.s), arrayTable("g", s.g), arrayTable("J = diag(s) - s s^T", s.jacobian),
      arrayTable("J^T g", s.product), arrayTable("what backward returned", s.backward)));
  }
  $("node-detail").replaceChildren(...detail);
}

async function backward() {
  const wasPlaying = Boolean(state.frame && state.frame.playing);
  try {
    state.pass = await api(sessionPath("backward"));
    state.current = 0;
    $("backprop-error").textContent = wasPlaying
      ? "Training paused to record this step; press Play to go on." : "";
    showPass();
  } catch (error) {
    $("backprop-error").textContent = error.message;
  }
}

async function gradcheck() {
  const result = $("gradcheck-result");
  result.textContent = "checking...";
  result.className = "";
  try {
    const r = await api(sessionPath("gradcheck"), { parameter: $("gradcheck-param").value });
    result.textContent = `${r.parameter}: relative error ${r.relative_error.toExponential(2)} `
      + `over ${r.checked} of ${r.elements} elements (${r.formula})`;
    result.className = { agree: "good", disagree: "bad" }[r.verdict] || "small";
    if (r.verdict === "too small to check") {
      result.textContent += `. Every gradient is below 1e-8 (largest ${r.largest_gradient.toExponential(1)}):`
        + " finite differences only see their own rounding there. The gradient has vanished;"
        + " the rule is not wrong.";
    }
  } catch (error) {
    result.textContent = error.message;
    result.className = "bad";
  }
}

// ---------------------------------------------------------------- export
async function exportFiles() {
  $("export-error").textContent = "";
  try {
    const response = await fetch(sessionPath("export/train.py"));
    if (!response.ok) throw new Error((await response.json()).error);
    $("code").textContent = await response.text();
  } catch (error) {
    $("export-error").textContent = `could not export: ${error.message}`;
    return;
  }
  for (const [id, name] of [["download-model", "model.safetensors"], ["download-config", "config.json"],
    ["download-code", "train.py"]]) {
    $(id).href = sessionPath(`export/${name}`);
  }
  $("downloads").hidden = false;
}

// ---------------------------------------------------------------- start
function lost(message) {
  if (state.leaving) return;
  $("banner").textContent = message;
  $("banner").hidden = false;
  document.body.classList.add("lost");
}

function listen() {
  const socket = new WebSocket(`ws://${location.host}${sessionPath("live")}`);
  state.socket = socket;
  socket.onopen = () => { state.retries = 0; };
  socket.onmessage = (message) => {
    const { type, data } = JSON.parse(message.data);
    // after a new build: its data points and parameter names, then frames
    if (type === "points") receive(data); else draw(data);
  };
  socket.onclose = (event) => {
    if (state.leaving) return;
    if (event.code === 4404) {
      lost("this page's network is gone from the server (it restarted?): reload the page.");
    } else if (event.code === 1001 || event.code === 1012) {  // going away; uvicorn's restart
      lost("the playground server stopped. Start glassnet playground again and reload the page.");
    } else if (state.retries < 3) {  // a drop: the server keeps the network a few seconds
      state.retries += 1;
      setTimeout(listen, 500 * state.retries);
    } else {
      lost("lost the connection to the playground server: is glassnet playground still "
        + "running? Start it again and reload the page.");
    }
  };
}

async function start() {
  const data = await api("/api/sessions");
  state.id = data.id;
  state.options = data.options;
  state.presets = data.presets;
  fillSelect($("dataset"), data.options.datasets);
  fillSelect($("loss"), data.options.losses);
  fillSelect($("optimizer"), data.options.optimizers);
  for (const name of Object.keys(data.presets)) $("preset").append(el("option", { value: name, text: name }));
  showSettings(data.frame.settings);
  state.built = JSON.stringify(readSettings());
  receive(data);
  listen();
  $("build").addEventListener("click", build);
  // a change in the Build panel builds again, as TensorFlow Playground does
  $("build-panel").addEventListener("change", (event) => {
    if (event.target.id === "preset") return;
    if (!state.applyingPreset) { $("preset").value = ""; $("preset-about").textContent = ""; }
    buildIfChanged();
  });
  $("build-panel").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.tagName === "INPUT") { event.preventDefault(); buildIfChanged(); }
  });
  window.addEventListener("beforeunload", () => { state.leaving = true; });
  $("add-layer").addEventListener("click", () => {
    $("layers").append(layerRow({ width: 8, activation: "relu" }));
    build();
  });
  $("preset").addEventListener("change", applyPreset);
  for (const action of ["play", "pause", "step", "reset"]) {
    $(action).addEventListener("click", () => control(action));
  }
  $("backward").addEventListener("click", backward);
  $("prev-node").addEventListener("click", () => { state.current -= 1; showPass(); });
  $("next-node").addEventListener("click", () => { state.current += 1; showPass(); });
  $("gradcheck").addEventListener("click", gradcheck);
  $("export").addEventListener("click", exportFiles);
  const kept = keptSettings();
  if (kept) {  // the settings of the last build, kept in the address: a reload keeps them
    showSettings(Object.assign({}, data.frame.settings, kept));
    await build();
  }
  document.body.dataset.ready = "true";
}

function keptSettings() {
  if (location.hash.length < 2) return null;
  try {
    const settings = JSON.parse(decodeURIComponent(location.hash.slice(1)));
    return settings && typeof settings === "object" && Array.isArray(settings.layers) ? settings : null;
  } catch (error) {
    return null;  // an address edited by hand: the defaults, and the server checks any build
  }
}

window.addEventListener("DOMContentLoaded", () => {
  start().catch((error) => { showError(`could not start: ${error.message}`); });
});
