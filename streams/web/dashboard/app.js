// framegate dashboard: plain DOM and hand-drawn SVG, no dependencies, no build step.
// Data: api/fleet, api/camera, api/flagged, api/alerts, api/audit, api/explore, api/inspect,
// api/distribution (JSON) and api/events (server-sent events: "overview", "alert", "flagged",
// "audit"). Actions are POSTed to api/actions. Everything from the server is inserted as text.
"use strict";

const PREFERRED = ["brightness", "sharpness", "contrast", "noise", "entropy", "colourfulness"];
const MAX_CHARTS = 12;
const MAX_FLAGGED = 24;
const MAX_ALERTS = 200;
const CHART_REFRESH_MS = 5000;
const SVG = "http://www.w3.org/2000/svg";

const LIVENESS_CHECKS = ["camera_offline", "camera_lagging"];
const MUTE_S = 3600;

const state = { metric: null, metrics: [], cameras: [], seenAlerts: new Set(),
  seenFlagged: new Set(), lastCharts: 0, acked: new Map(), checks: new Set(LIVENESS_CHECKS),
  actionCells: new Map() };

function $(id) { return document.getElementById(id); }

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.setAttribute("class", value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

async function getJSON(path) {
  const response = await fetch(path, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

const pct = (x) => `${(100 * x).toFixed(x > 0 && x < 0.01 ? 2 : 1)}%`;
const num = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2));
const epoch = (iso) => Date.parse(iso) / 1000;
const clock = (s) => new Date(s * 1000).toISOString().slice(11, 19);
const age = (s) => (s === null || s === undefined ? "–" : s < 90 ? `${s.toFixed(1)} s`
  : s < 5400 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`);

// -- actions --------------------------------------------------------------------------

async function act(body) {
  const response = await fetch("api/actions", { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Requested-With": "framegate" },
    body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  const status = $("action-status");
  status.textContent = response.ok ? `${body.kind} of ${body.camera_id} sent`
    : `${body.kind} refused: ${answer.error || response.status}`;
  status.className = response.ok ? "sent" : "refused";
  return response.ok;
}

function actionsCell(camera) {
  // kept across redraws of the table, so a choice being made is not reset
  const kept = state.actionCells.get(camera);
  if (kept) return kept;
  const checks = el("select", { class: "mute-check", "aria-label": `check to mute on ${camera}` },
    ...[...state.checks].sort().map((c) => el("option", { value: c, text: c })));
  const mute = el("button", { type: "button", class: "mute", text: "mute 1 h" });
  mute.onclick = () => act({ kind: "mute", camera_id: camera, check: checks.value, duration_s: MUTE_S });
  const rebase = el("button", { type: "button", class: "rebaseline", text: "re-baseline" });
  rebase.onclick = () => {
    if (window.confirm(`Restart the references of ${camera}?`)) act({ kind: "rebaseline", camera_id: camera });
  };
  const cell = el("td", { class: "actions" }, rebase, checks, mute);
  state.actionCells.set(camera, cell);
  return cell;
}

// -- overview -------------------------------------------------------------------------

function renderOverview(o) {
  const f = o.fleet;
  $("ov-cameras").textContent = f.cameras;
  $("ov-fps").textContent = f.frames_per_s.toFixed(1);
  $("ov-flagged").textContent = f.window_frames ? pct(f.flagged_share) : "–";
  $("ov-alerts").textContent = f.open_alerts;
  $("ov-alerts").parentElement.classList.toggle("firing", f.open_alerts > 0);
  $("ov-relabel").textContent = f.relabel_total;
  $("ov-dead").textContent = f.deadletter_total;
  $("share-window").textContent = `share of frames, last ${Math.round(o.share_window_s / 60)} min`;

  const bars = $("issues");
  bars.replaceChildren();
  const shares = Object.entries(f.issue_share);
  if (!shares.length) bars.append(el("p", { class: "empty", text: f.window_frames ? "no issues" : "no frames yet" }));
  for (const [check, share] of shares) {
    const fill = el("div", { class: "fill", style: `width:${Math.max(1, 100 * share)}%` });
    bars.append(el("div", { class: "bar", "data-check": check },
      el("span", { text: check }), el("div", { class: "track" }, fill),
      el("span", { class: "pct", text: pct(share) })));
  }

  const body = $("cameras").tBodies[0];
  body.replaceChildren();
  for (const c of o.cameras) {
    const top = Object.entries(c.issue_share)[0];
    body.append(el("tr", { "data-camera": c.camera_id },
      el("td", { text: c.camera_id }),
      el("td", { class: "fps", text: c.frames_per_s.toFixed(1) }),
      el("td", { class: `age${c.last_frame_age_s > 60 ? " stale" : ""}`, text: age(c.last_frame_age_s) }),
      el("td", { class: "lag", text: age(c.lag_s) }),
      el("td", { text: c.frames_total }),
      el("td", { text: c.window_frames ? pct(c.flagged_share) : "–" }),
      el("td", { text: top ? `${top[0]} ${pct(top[1])}` : "" }),
      el("td", { class: `alerts-n${c.open_alerts ? " firing" : ""}`, text: c.open_alerts }),
      actionsCell(c.camera_id)));
  }
  for (const a of o.open_alerts) if (a.acknowledged) markAcknowledged(a.alert_id, a.acknowledged_by);
  state.cameras = o.cameras.map((c) => c.camera_id);
  for (const c of o.cameras) for (const m of Object.keys(c.last_metrics)) addMetric(m);
  if (Date.now() - state.lastCharts > CHART_REFRESH_MS) refreshCharts();
}

function addMetric(name) {
  if (state.metrics.includes(name)) return;
  state.metrics.push(name);
  state.metrics.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const select = $("metric");
  select.replaceChildren(...state.metrics.map((m) => el("option", { value: m, text: m })));
  if (!state.metric) state.metric = state.metrics[0];
  select.value = state.metric;
}
const rank = (m) => (PREFERRED.includes(m) ? PREFERRED.indexOf(m) : PREFERRED.length);

// -- charts ---------------------------------------------------------------------------

async function refreshCharts() {
  state.lastCharts = Date.now();
  const ids = state.cameras.slice(0, MAX_CHARTS);
  const data = await Promise.all(ids.map((id) =>
    getJSON(`api/camera?id=${encodeURIComponent(id)}`).catch(() => null)));
  const box = $("charts");
  box.replaceChildren();
  if (!ids.length) box.append(el("p", { class: "empty", text: "no frames yet" }));
  for (const camera of data) if (camera) box.append(chart(camera, state.metric));
}

function chart(camera, metric) {
  const W = 300, H = 100, L = 34, R = 4, T = 6, B = 16;
  const values = camera.series[metric] || [];
  const points = camera.t.map((t, i) => [t, values[i]]).filter(([, v]) => v !== null && v !== undefined);
  const svg = el("svg:svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none",
    role: "img", "aria-label": `${metric} of ${camera.camera_id}` });
  const card = el("div", { class: "chart", "data-camera": camera.camera_id },
    el("div", { class: "title" }, el("b", { text: camera.camera_id }),
      el("span", { text: points.length ? `${metric} ${num(points[points.length - 1][1])}` : metric })),
    svg);
  svg.append(el("svg:line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
  if (!points.length) return card;
  const t0 = points[0][0], t1 = Math.max(points[points.length - 1][0] + camera.bucket_s, t0 + 1);
  let lo = Math.min(...points.map((p) => p[1])), hi = Math.max(...points.map((p) => p[1]));
  if (hi - lo < 1e-9) { lo -= 0.5 * Math.abs(lo || 1) * 0.1; hi += 0.5 * Math.abs(hi || 1) * 0.1; }
  const x = (t) => L + (W - L - R) * Math.min(1, Math.max(0, (t - t0) / (t1 - t0)));
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  svg.append(el("svg:polyline", { class: "series",
    points: points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ") }));
  svg.append(el("svg:text", { class: "tick", x: 2, y: T + 8, text: num(hi) }));
  svg.append(el("svg:text", { class: "tick", x: 2, y: H - B, text: num(lo) }));
  svg.append(el("svg:text", { class: "tick", x: L, y: H - 3, text: clock(t0) }));
  svg.append(el("svg:text", { class: "tick", x: W - R - 40, y: H - 3, text: clock(t1) }));
  for (const alert of camera.alerts) {
    const at = x(epoch(alert.at));
    const mark = el("svg:line", { class: `marker ${alert.status}`, x1: at, x2: at, y1: T, y2: H - B,
      "data-alert": alert.alert_id });
    mark.append(el("svg:title", { text: `${alert.kind} ${alert.metric} (${alert.detector}) ${alert.status} at ${alert.at}` }));
    svg.append(mark);
  }
  return card;
}

// -- flagged frames and alerts --------------------------------------------------------

function addFlagged(item, prepend = true) {
  if (state.seenFlagged.has(item.request_id)) return;
  state.seenFlagged.add(item.request_id);
  const box = $("flagged");
  box.querySelector(".empty")?.remove();
  const picture = item.thumbnail
    ? el("img", { src: item.thumbnail, alt: `flagged frame ${item.frame_id}`, loading: "lazy" })
    : el("div", { class: "noimg", text: item.image_uri ? "image by reference" : "no preview" });
  const reasons = el("div", {}, ...item.reasons.map((r) =>
    el("span", { class: `badge ${r.severity}`, title: r.detail, text: `${r.check} ${r.score.toFixed(2)}` })));
  const card = el("figure", { class: "thumb", "data-frame": item.frame_id,
    "data-request-id": item.request_id }, picture,
    el("div", { class: "meta", title: item.frame_id, text: `${item.camera_id} · ${item.frame_id}` }),
    reasons);
  card.style.margin = "0";
  card.onclick = () => inspect(item.request_id);
  for (const r of item.reasons) noteCheck(r.check);
  if (prepend) box.prepend(card); else box.append(card);
  while (box.children.length > MAX_FLAGGED) {
    state.seenFlagged.delete(box.lastElementChild.dataset.requestId);
    box.lastElementChild.remove();
  }
}

function alertKey(a) { return `${a.alert_id}|${a.status}|${a.at}`; }

function addAlert(alert, prepend = true) {
  const key = alertKey(alert);
  if (state.seenAlerts.has(key)) return;
  state.seenAlerts.add(key);
  const list = $("alerts");
  list.querySelector(".empty")?.remove();
  const where = alert.camera_id || "fleet-wide";
  const item = el("li", { class: `alert ${alert.severity} ${alert.status}${prepend ? " new" : ""}`,
    "data-alert": alert.alert_id },
    el("div", {}, el("span", { class: `badge ${alert.status === "resolved" ? "resolved" : alert.severity}`,
      text: alert.status === "resolved" ? "resolved" : alert.severity }),
      el("b", { text: `${alert.kind.replace("_", " ")} · ${where} · ${alert.metric}` })),
    el("div", { class: "when", text: `${alert.at} · ${alert.detector}` }),
    alert.detail ? el("div", { class: "detail", text: alert.detail }) : null);
  if (alert.status === "firing" && alert.camera_id) {
    const ack = el("button", { type: "button", class: "ack", text: "acknowledge" });
    ack.onclick = () => act({ kind: "acknowledge", camera_id: alert.camera_id, alert_id: alert.alert_id });
    item.append(el("div", { class: "ops" }, ack, alert.muted ? el("span", { class: "muted", text: "muted" }) : null));
  }
  if (prepend) list.prepend(item); else list.append(item);
  while (list.children.length > MAX_ALERTS) list.lastElementChild.remove();
  if (alert.acknowledged) markAcknowledged(alert.alert_id, alert.acknowledged_by);
  else if (state.acked.has(alert.alert_id)) markAcknowledged(alert.alert_id, state.acked.get(alert.alert_id));
}

function markAcknowledged(alertId, by) {
  state.acked.set(alertId, by);
  for (const item of document.querySelectorAll(`#alerts li[data-alert="${CSS.escape(alertId)}"]`)) {
    if (item.classList.contains("acknowledged")) continue;
    item.classList.add("acknowledged");
    item.classList.remove("new");
    const ops = item.querySelector(".ops");
    ops?.querySelector("button.ack")?.remove();
    ops?.prepend(el("span", { class: "acked", text: `acknowledged by ${by || "an operator"}` }));
  }
}

function addAudit(record, prepend = true) {
  const list = $("audit");
  list.querySelector(".empty")?.remove();
  if (list.querySelector(`li[data-action="${CSS.escape(record.action_id)}"]`)) return;
  const what = record.kind === "acknowledge" ? `acknowledge ${record.alert_id}`
    : record.kind === "mute" ? `mute ${record.check} until ${record.muted_until}`
    : record.kind === "unmute" ? `unmute ${record.check}` : `re-baseline${record.metric ? ` ${record.metric}` : ""}`;
  const item = el("li", { class: `audit ${record.outcome}`, "data-action": record.action_id,
    "data-kind": record.kind },
    el("div", {}, el("span", { class: `badge ${record.outcome === "applied" ? "resolved" : "critical"}`,
      text: record.outcome }), el("b", { text: `${record.camera_id} · ${what}` })),
    el("div", { class: "when", text: `${record.applied_at} · ${record.actor} · ${record.worker}` }),
    record.detail ? el("div", { class: "detail", text: record.detail }) : null);
  if (prepend) list.prepend(item); else list.append(item);
  while (list.children.length > MAX_ALERTS) list.lastElementChild.remove();
  if (record.outcome === "applied" && record.kind === "acknowledge") markAcknowledged(record.alert_id, record.actor);
}

// -- wiring ---------------------------------------------------------------------------

function connect() {
  const live = $("live");
  const events = new EventSource("api/events");
  events.onopen = () => { live.className = "live on"; live.textContent = "live"; };
  events.onerror = () => { live.className = "live off"; live.textContent = "reconnecting…"; };
  events.addEventListener("overview", (e) => renderOverview(JSON.parse(e.data)));
  events.addEventListener("alert", (e) => {
    addAlert(JSON.parse(e.data));
    state.lastCharts = 0;  // redraw the markers with the next overview
  });
  events.addEventListener("flagged", (e) => { addFlagged(JSON.parse(e.data)); scheduleExplore(); });
  events.addEventListener("audit", (e) => addAudit(JSON.parse(e.data)));
}

async function start() {
  $("metric").addEventListener("change", (e) => { state.metric = e.target.value; refreshCharts(); });
  $("filters").addEventListener("change", () => explore());
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); explore(); });
  $("i-close").onclick = () => $("inspector").close();
  connect();  // first, so nothing published while the lists load is missed
  const [overview, flagged, alerts, audit] = await Promise.all(
    [getJSON("api/fleet"), getJSON("api/flagged"), getJSON("api/alerts"), getJSON("api/audit")]);
  for (const record of [...audit.records].reverse()) addAudit(record);
  for (const item of flagged) addFlagged(item, false);
  for (const alert of alerts) addAlert(alert, false);
  renderOverview(overview);
  await explore();
}

start().catch((error) => { $("live").className = "live off"; $("live").textContent = String(error); });
