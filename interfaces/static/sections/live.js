// SECTION 8: executions running now, with progress and a ticking duration (embedded, then from
// the feed and /monitor/active), and the event stream of the WebSocket feed, which resumes after
// a disconnect from its last position without losing or repeating an event.

import { badge, clear, duration, h, when } from "../dom.js";

const KEEP = 200;
let active = new Map();
let events = [];
let statusEl;
let activeBox;
let streamBox;
let ticker;
let poller;

export function init(ctx) {
  for (const run of ctx.state.metrics.active.active_executions) active.set(run.execution_id, { ...run, seenAt: Date.now() });
  ctx.on((kind, message) => {
    if (kind === "feed") onMessage(message);
    if (kind === "feed-status") onStatus(message);
  });
}

function onMessage(message) {
  events.unshift(message);
  events = events.slice(0, KEEP);
  const d = message.data || {};
  if (message.type === "job_started") {
    active.set(d.execution_id, { execution_id: d.execution_id, job_id: d.job_id, job_name: d.job_name, start_time: message.timestamp,
      duration_ms: 0, progress: 0, status: "running", trigger: d.trigger, seenAt: Date.now() });
  } else if (message.type === "job_completed" || (message.type === "job_failed" && !d.will_retry) || message.type === "job_missed") {
    active.delete(d.execution_id);
  } else if (message.type === "job_failed") {
    const run = active.get(d.execution_id);
    if (run) run.status = "retrying";
  }
  drawStream();
  drawActive();
}

let lastStatus = { state: "connecting" };
function onStatus(status) {
  lastStatus = status;
  if (!statusEl) return;
  const text = { connecting: "connecting…", connected: "connected", live: "live", disconnected: `disconnected (code ${status.code}), reconnecting`,
    "signed-out": "session ended" }[status.state] || status.state;
  clear(statusEl, h("span", { class: `dot dot-${status.state}` }), ` ${text} · position ${status.cursor ?? "—"} · reconnects ${status.reconnects ?? 0}`);
  statusEl.dataset.state = status.state;
}

export function render(ctx, section) {
  statusEl = h("p", { id: "feed-status", class: "feed-status" });
  activeBox = h("div", { id: "active-executions" });
  streamBox = h("ol", { id: "event-stream", class: "stream", reversed: true });
  section.append(
    h("div", { class: "toolbar" }, statusEl,
      h("button", { type: "button", id: "feed-interrupt", text: "Drop connection (test resume)", onclick: () => ctx.feed.interrupt() })),
    h("h3", { text: "Active executions" }), activeBox,
    h("h3", { text: "Event stream" }), streamBox);
  onStatus(lastStatus);
  drawActive();
  drawStream();
}

export function shown(ctx) {
  clearInterval(ticker);
  clearInterval(poller);
  ticker = setInterval(drawActive, 1000);
  // Progress is measured against each job's timeout on the server: asked for while shown.
  poller = setInterval(async () => {
    try {
      const data = await ctx.api.get("/monitor/active");
      const fresh = new Map();
      for (const run of data.active_executions) fresh.set(run.execution_id, { ...run, seenAt: Date.now() });
      active = fresh;
      drawActive();
    } catch { /* next tick */ }
  }, 5000);
}

export function hidden() {
  clearInterval(ticker);
  clearInterval(poller);
}

function drawActive() {
  if (!activeBox) return;
  const runs = [...active.values()];
  if (!runs.length) {
    clear(activeBox, h("p", { class: "muted", id: "no-active", text: "Nothing running." }));
    return;
  }
  clear(activeBox, h("ul", { class: "active-list" }, runs.map((run) => {
    const elapsed = run.duration_ms + (Date.now() - run.seenAt);
    return h("li", { class: "active-run", "data-execution-id": run.execution_id },
      h("strong", { text: run.job_name || run.job_id }), " ", badge(run.status), " ",
      h("span", { class: "muted", text: `${duration(elapsed)} · since ${when(run.start_time)}` }),
      h("div", { class: "progress" }, h("div", { class: "progress-bar", style: { width: `${run.progress || 0}%` } })));
  })));
}

function describe(message) {
  const d = message.data || {};
  switch (message.type) {
    case "job_started": return `${d.job_name} started (${d.trigger})`;
    case "job_completed": return `${d.job_name} completed in ${duration(d.duration_ms)}`;
    case "job_failed": return `${d.job_name} failed: ${d.error}${d.will_retry ? " (will retry)" : ""}`;
    case "job_missed": return `${d.job_name} missed ${when(d.scheduled_for)}: ${d.reason}`;
    case "job_created": return `${d.job_name} created by ${d.actor || "?"}`;
    case "job_updated": return `${d.job_name} updated by ${d.actor || "?"}`;
    case "job_toggled": return `${d.job_id} ${d.enabled ? "enabled" : "disabled"} by ${d.actor || "?"}${d.reason ? `: ${d.reason}` : ""}`;
    case "job_deleted": return `${d.job_id} deleted by ${d.actor || "?"}`;
    case "resource_alert": return `${d.level}: ${d.message}`;
    case "schedule_event": return `schedule ${d.schedule_id}: ${d.job_count} jobs ${d.status}`;
    default: return JSON.stringify(d);
  }
}

function drawStream() {
  if (!streamBox) return;
  clear(streamBox, events.map((m) => h("li", { class: `event event-${m.type}`, "data-position": m.position, "data-type": m.type },
    h("span", { class: "muted", text: `#${m.position} ${when(m.timestamp)} ` }), h("span", { class: "event-type", text: m.type }), " ", describe(m))));
}
