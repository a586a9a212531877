// The page's entry: reads the data the server embedded in #app, draws the eight sections from it
// (no API call on load), then keeps them current through the API and the live feed.

import { allJobs, makeApi } from "./api.js";
import { clear, h } from "./dom.js";
import { Feed } from "./feed.js";
import { switchGateway } from "./gateway.js";
import * as jobs from "./sections/jobs.js";
import * as create from "./sections/create.js";
import * as gateways from "./sections/gateways.js";
import * as schedules from "./sections/schedules.js";
import * as conflicts from "./sections/conflicts.js";
import * as bulk from "./sections/bulk.js";
import * as historySection from "./sections/history.js";
import * as live from "./sections/live.js";

const SECTIONS = [
  ["jobs", "1 · Jobs", jobs],
  ["create", "2 · Create", create],
  ["gateways", "3 · Gateways", gateways],
  ["schedules", "4 · Schedules", schedules],
  ["conflicts", "5 · Conflicts & resources", conflicts],
  ["bulk", "6 · Bulk & import/export", bulk],
  ["history", "7 · History & analytics", historySection],
  ["live", "8 · Live monitor", live],
];
const RANK = { viewer: 0, operator: 1, admin: 2 };

function read(root, name) {
  return JSON.parse(root.dataset[name]);
}

function start() {
  const root = document.getElementById("app");
  const scheduler = read(root, "scheduler");
  const state = {
    scheduler,
    jobs: read(root, "jobs"),
    gateways: read(root, "gateways"),
    metrics: read(root, "metrics"),
    gatewayId: scheduler.gateway_id,
    role: scheduler.user.role,
  };
  const api = makeApi({ gatewayId: state.gatewayId, csrf: scheduler.csrf_token, prefix: scheduler.api });
  const listeners = new Set();
  const ctx = {
    state,
    api,
    can: (role) => RANK[state.role] >= RANK[role],
    toast,
    confirm: confirmDialog,
    dialog: showDialog,
    show,
    on: (fn) => listeners.add(fn),
    emit: (kind, detail) => listeners.forEach((fn) => fn(kind, detail)),
    refreshJobs: async () => {
      state.jobs = await allJobs(api);
      ctx.emit("jobs", state.jobs);
    },
    edit: (job) => { show("create"); create.edit(ctx, job); },
  };

  const nav = document.getElementById("sections-nav");
  const containers = {};
  const drawn = new Set();
  for (const [id, title, module] of SECTIONS) {
    containers[id] = h("section", { id: `section-${id}`, class: "section", hidden: true, "aria-label": title },
      h("h2", { text: title.replace(/^\d · /, "") }));
    root.append(containers[id]);
    nav.append(h("button", { type: "button", id: `nav-${id}`, "data-section": id, text: title, onclick: () => show(id) }));
    module.init?.(ctx, containers[id]);
  }

  function show(id) {
    if (!containers[id]) id = "jobs";
    for (const [other] of SECTIONS) {
      containers[other].hidden = other !== id;
      nav.querySelector(`[data-section="${other}"]`).classList.toggle("active", other === id);
    }
    const module = SECTIONS.find(([other]) => other === id)[2];
    if (!drawn.has(id)) {
      drawn.add(id);
      module.render(ctx, containers[id]);
    }
    module.shown?.(ctx, containers[id]);
    for (const [other, , m] of SECTIONS) if (other !== id) m.hidden?.(ctx);
    if (location.hash !== `#${id}`) history.replaceState(null, "", `#${id}`);
  }

  gatewaySwitcher(state);
  ctx.feed = new Feed({
    url: (location.protocol === "https:" ? "wss://" : "ws://") + location.host + scheduler.ws,
    token: scheduler.socket_token,
    gatewayId: state.gatewayId,
    after: state.metrics.feed_position,
    freshToken: async () => {
      const response = await fetch("/session/socket-token", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": scheduler.csrf_token, "X-Gateway-ID": state.gatewayId },
      });
      if (!response.ok) throw new Error("no session");
      return (await response.json()).token;
    },
    onMessage: (message) => ctx.emit("feed", message),
    onStatus: (status) => { document.body.dataset.feed = status.state; ctx.emit("feed-status", status); },
  });
  ctx.feed.connect();
  show(location.hash.slice(1) || "jobs");
  document.body.dataset.ready = "true";
}

function gatewaySwitcher(state) {
  const select = document.getElementById("gateway-select");
  const ids = new Set(state.gateways.map((g) => g.id));
  ids.add(state.gatewayId);
  for (const id of [...ids].sort()) {
    const gateway = state.gateways.find((g) => g.id === id);
    select.append(h("option", { value: id, text: gateway ? `${gateway.name || id} (${gateway.status})` : id, selected: id === state.gatewayId }));
  }
  select.addEventListener("change", () => switchGateway(select.value));
}

let toastTimer;
function toast(message, kind = "info") {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = `toast show toast-${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = "toast"; }, 5000);
}

function showDialog(title, body, actions = [["Close", null]]) {
  const dialog = document.getElementById("dialog");
  return new Promise((resolve) => {
    const buttons = actions.map(([label, value, cls]) => h("button", {
      type: "button", class: cls || "", text: label, "data-action": label,
      onclick: () => { dialog.close(); resolve(value); },
    }));
    clear(dialog, h("div", { class: "dialog-body" }, h("h3", { text: title }), body, h("div", { class: "actions" }, buttons)));
    dialog.onclose = () => resolve(null);
    dialog.showModal();
  });
}

async function confirmDialog(title, message, confirmLabel = "Confirm", extra = null) {
  const result = await showDialog(title, h("div", {}, h("p", { text: message }), extra),
    [["Cancel", false], [confirmLabel, true, "danger"]]);
  return result === true;
}

start();
