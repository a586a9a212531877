// Inputs for a schedule's or an action's parameters, as /templates lists them, and the values
// they hold (empty inputs are left out, so the server's defaults apply).

import { field, h } from "../dom.js";

const NUMBERS = new Set(["interval_seconds", "jitter_percentage", "offset_minutes", "latitude", "longitude", "qos", "retain_days"]);
const BOOLEANS = new Set(["skip_weekends", "retain"]);
const INSTANTS = new Set(["start_at", "end_at", "at"]);
const HINTS = {
  interval_seconds: "seconds between runs", jitter_percentage: "0–100, spreads fires", time: "HH:MM, local",
  timezone: "IANA, e.g. Europe/Berlin", days: "comma-separated: mon,tue,…", day: "1–31 or last",
  cron_expression: "5 or 6 fields", event: "sunrise, sunset, dawn or dusk", offset_minutes: "minutes, may be negative",
  start_at: "UTC instant, e.g. 2025-03-12T08:00:00Z", end_at: "UTC instant", at: "UTC instant",
  topic: "MQTT topic", payload_template: "${NOW}, ${JOB_ID}, ${EXECUTION_ID}, ${DEVICE_ID}", qos: "0, 1 or 2",
  operation: "the operation's name", parameters: "JSON object", pattern: "glob under the files root",
};
const DEFAULTS = { interval: { interval_seconds: 60 }, daily: { time: "01:00", timezone: "UTC" },
  weekly: { days: ["mon"], time: "08:00", timezone: "UTC" }, monthly: { day: 1, time: "02:00", timezone: "UTC" },
  cron: { cron_expression: "0 9-17 * * 1-5", timezone: "UTC" }, sunrise: { event: "sunrise", offset_minutes: 0 } };

export function defaults(type) {
  return DEFAULTS[type] || {};
}

function show(name, value) {
  if (value === undefined || value === null) return "";
  if (name === "days" && Array.isArray(value)) return value.join(",");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function inputs(prefix, names, values = {}, onInput = () => {}) {
  const elements = {};
  const fields = names.map((name) => {
    let input;
    const id = `${prefix}-${name}`;
    if (BOOLEANS.has(name)) input = h("input", { type: "checkbox", id, name, checked: Boolean(values[name]), onchange: onInput });
    else if (name === "event") {
      input = h("select", { id, name, onchange: onInput }, ["", "sunrise", "sunset", "dawn", "dusk"].map((v) => h("option", { value: v, text: v || "—", selected: values[name] === v })));
    } else if (name === "time") input = h("input", { type: "time", id, name, value: show(name, values[name]), oninput: onInput });
    else input = h("input", { id, name, type: NUMBERS.has(name) ? "number" : "text", step: NUMBERS.has(name) ? "any" : null,
      value: show(name, values[name]), placeholder: INSTANTS.has(name) ? "2025-03-12T08:00:00Z" : "", oninput: onInput });
    elements[name] = input;
    return field(name.replaceAll("_", " "), input, HINTS[name]);
  });
  return { fields, read: () => read(elements) };
}

function read(elements) {
  const out = {};
  for (const [name, input] of Object.entries(elements)) {
    if (BOOLEANS.has(name)) {
      if (input.checked) out[name] = true;
      continue;
    }
    const raw = input.value.trim();
    if (raw === "") continue;
    if (NUMBERS.has(name)) out[name] = Number(raw);
    else if (name === "days") out[name] = raw.split(",").map((d) => d.trim()).filter(Boolean);
    else if (name === "day") out[name] = /^\d+$/.test(raw) ? Number(raw) : raw;
    else if (name === "parameters") {
      try { out[name] = JSON.parse(raw); } catch { out[name] = raw; }
    } else out[name] = raw;
  }
  return out;
}
