// framegate dashboard: the frame inspector and the explorer (loaded before app.js, whose
// helpers $, el, getJSON, num it uses at call time). The inspector draws the frame and its
// boxes in one SVG whose coordinates are the source image's pixels: ground truth solid,
// predictions dashed, each with its label (and score).
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
let exploreTimer = null;

function noteCheck(check) {
  if (state.checks.has(check)) return;
  state.checks.add(check);
  for (const select of document.querySelectorAll("select.mute-check")) {
    select.append(el("option", { value: check, text: check }));
  }
}

function setOptions(select, values) {
  const current = select.value;
  const known = new Set([...select.options].map((o) => o.value));
  for (const value of values) if (!known.has(value)) select.append(el("option", { value, text: value }));
  select.value = current;
}

function scheduleExplore() {
  clearTimeout(exploreTimer);
  exploreTimer = setTimeout(() => explore().catch(() => {}), 400);
}

function isoOf(input) {
  return input.value ? new Date(`${input.value}Z`).toISOString() : "";
}

async function explore() {
  const query = new URLSearchParams({ camera: $("f-camera").value, check: $("f-check").value,
    severity: $("f-severity").value, since: isoOf($("f-since")), until: isoOf($("f-until")) });
  const answer = await getJSON(`api/explore?${query}`);
  setOptions($("f-camera"), answer.facets.cameras);
  setOptions($("f-check"), answer.facets.checks);
  setOptions($("f-severity"), answer.facets.severities);
  const box = $("results");
  box.replaceChildren();
  $("f-count").textContent = `${answer.frames.length} frame${answer.frames.length === 1 ? "" : "s"}`;
  if (!answer.frames.length) box.append(el("p", { class: "empty", text: "no flagged frame matches" }));
  for (const item of answer.frames) {
    const card = el("figure", { class: "result", "data-frame": item.frame_id,
      "data-request-id": item.request_id },
      el("img", { src: `api/thumbnails/${encodeURIComponent(item.request_id)}.jpg`,
        alt: `flagged frame ${item.frame_id}`, loading: "lazy" }),
      el("div", { class: "meta", title: item.captured_at, text: `${item.camera_id} · ${item.frame_id}` }),
      el("div", {}, ...item.issues.map((i) =>
        el("span", { class: `badge ${i.severity}`, title: i.detail, text: i.check }))));
    card.querySelector("img").onerror = (e) => e.target.replaceWith(el("div", { class: "noimg", text: "no preview" }));
    card.style.margin = "0";
    card.onclick = () => inspect(item.request_id);
    box.append(card);
  }
  await showDistribution($("f-camera").value);
}

function bars(title, counts, kind) {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const rows = Object.entries(counts).map(([label, n]) => el("div", { class: "bar", "data-label": label,
    "data-kind": kind }, el("span", { text: label }),
    el("div", { class: "track" }, el("div", { class: `fill ${kind}`, style: `width:${Math.max(1, 100 * n / total)}%` })),
    el("span", { class: "pct", text: String(n) })));
  return el("div", { class: "bars" }, el("h3", { text: title }),
    ...(rows.length ? rows : [el("p", { class: "empty", text: "none" })]));
}

async function showDistribution(camera) {
  const box = $("distribution");
  if (!camera) {
    box.replaceChildren(el("p", { class: "empty", text: "choose a camera to see its labels and predicted classes" }));
    return;
  }
  const d = await getJSON(`api/distribution?camera=${encodeURIComponent(camera)}`).catch(() => null);
  if (!d) { box.replaceChildren(el("p", { class: "empty", text: "no data for this camera" })); return; }
  box.replaceChildren(el("p", { class: "dim", text: `${d.camera_id}: last ${d.frames} flagged frames` }),
    bars("labels (ground truth)", d.labels, "gt"), bars("predicted classes", d.predicted, "pred"));
}

function svgEl(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

function drawBox(svg, box, kind, caption, scale) {
  const [x1, y1, x2, y2] = box;
  const g = svgEl("g", { class: `box ${kind}`, "data-kind": kind, "data-label": caption });
  g.append(svgEl("rect", { x: x1, y: y1, width: x2 - x1, height: y2 - y1,
    "stroke-width": 2 * scale, ...(kind === "prediction" ? { "stroke-dasharray": `${6 * scale} ${4 * scale}` } : {}) }));
  const size = 13 * scale;
  const ty = kind === "prediction" ? y2 + size : Math.max(size, y1 - 3 * scale);
  g.append(svgEl("rect", { class: "caption-bg", x: x1, y: ty - size, width: caption.length * size * 0.62 + 4 * scale,
    height: size * 1.2 }));
  g.append(svgEl("text", { x: x1 + 2 * scale, y: ty - 1 * scale, "font-size": size }, caption));
  svg.append(g);
}

async function inspect(requestId) {
  const f = await getJSON(`api/inspect?id=${encodeURIComponent(requestId)}`);
  const dialog = $("inspector");
  dialog.dataset.requestId = f.request_id;
  $("i-title").textContent = `${f.camera_id} · ${f.frame_id} · ${f.captured_at}`;
  const boxes = [...f.annotations, ...f.predictions].filter((b) => b.box);
  const width = f.width || Math.max(1, ...boxes.map((b) => b.box[2]));
  const height = f.height || Math.max(1, ...boxes.map((b) => b.box[3]));
  const svg = $("i-svg");
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const scale = Math.max(width, height) / 900;
  if (f.image) svg.append(svgEl("image", { href: f.image, x: 0, y: 0, width, height, preserveAspectRatio: "none" }));
  else svg.append(svgEl("rect", { class: "blank", x: 0, y: 0, width, height }));
  $("i-noimg").hidden = Boolean(f.image);
  $("i-noimg").textContent = f.image ? "" : "the image of this frame is no longer kept (only the latest are)";
  for (const a of f.annotations) if (a.box) drawBox(svg, a.box, "annotation", a.label, scale);
  for (const p of f.predictions) drawBox(svg, p.box, "prediction", `${p.label} ${p.score.toFixed(2)}`, scale);

  const issues = $("i-issues");
  issues.replaceChildren(...f.issues.map((i) => el("li", { "data-check": i.check },
    el("span", { class: `badge ${i.severity}`, text: `${i.check} ${i.score.toFixed(2)}` }),
    el("span", { class: "dim", text: ` threshold ${i.threshold} · ` }), el("span", { text: i.detail }))));
  const classes = Object.entries(f.classes).sort((a, b) => b[1] - a[1]).slice(0, 5);
  if (classes.length) issues.append(el("li", { class: "classes", text:
    `${f.model}: ${classes.map(([c, p]) => `${c} ${p.toFixed(2)}`).join(", ")}` }));

  const body = $("i-metrics").tBodies[0];
  body.replaceChildren(...f.metrics.map((m) => {
    const u = m.usual;
    const outside = u && (m.value < u.p5 || m.value > u.p95);
    return el("tr", { "data-metric": m.name, class: outside ? "outside" : "" },
      el("td", { text: m.name }), el("td", { class: "value", text: num(m.value) }),
      el("td", { class: "usual", text: u ? `${num(u.median)} (${num(u.p5)}–${num(u.p95)}) n=${u.n}` : "–" }));
  }));
  if (!f.metrics.length) body.append(el("tr", {}, el("td", { class: "empty", text: "no report seen for this frame" })));

  const near = $("i-neighbours");
  near.replaceChildren(...f.neighbours.map((n) => {
    const link = el("a", { href: "#", "data-request-id": n.request_id, text: `${n.frame_id} · ${n.checks.join(", ")}` });
    link.onclick = (e) => { e.preventDefault(); inspect(n.request_id); };
    return el("li", {}, link);
  }));
  if (!f.neighbours.length) near.append(el("li", { class: "empty", text: "none kept" }));
  if (!dialog.open) dialog.showModal();
}
