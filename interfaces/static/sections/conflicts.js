// SECTION 5: the conflict check of a candidate schedule (/conflicts/check) with its
// recommendations, and the gateway's resources as gauges, refreshed live while shown
// (/resources/usage) and marked by the feed's resource alerts.

import { clear, field, h } from "../dom.js";
import { defaults, inputs } from "./schedule_fields.js";

let timer;
let gauges;

export function conflictReport(data) {
  return h("div", { id: "conflict-report" },
    data.has_conflicts
      ? h("table", {}, h("thead", {}, h("tr", {}, ["Job", "Kind", "Period", "Severity", "Count"].map((t) => h("th", { text: t })))),
          h("tbody", {}, data.conflicts.map((c) => h("tr", {},
            h("td", { text: c.job_name || c.job_id }), h("td", { text: c.conflict_type }), h("td", { text: c.conflict_period ?? "" }),
            h("td", {}, h("span", { class: `badge badge-${String(c.severity).replace(/[^a-z]/g, "")}`, text: c.severity })),
            h("td", { text: c.occurrences ?? c.count ?? "" })))))
      : h("p", { class: "ok", text: "No conflicts." }),
    data.recommendations?.length ? h("div", {}, h("h4", { text: "Recommendations" }),
      h("ul", {}, data.recommendations.map((r) => h("li", { text: typeof r === "string" ? r
        : Object.entries(r).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ") })))) : null);
}

export function render(ctx, section) {
  gauges = h("div", { class: "gauges", id: "gauges" });
  const alerts = h("ul", { id: "resource-alerts", class: "alerts" });
  const type = h("select", { id: "conflict-type" }, Object.keys(ctx.state.scheduler.templates.schedule_types).map((t) => h("option", { value: t, text: t })));
  const paramsBox = h("div", { class: "param-grid" });
  let schedule;
  const drawParams = () => {
    schedule = inputs("conf", ctx.state.scheduler.templates.schedule_types[type.value].parameters, defaults(type.value));
    clear(paramsBox, schedule.fields);
  };
  type.addEventListener("change", drawParams);
  drawParams();
  const estimate = h("input", { id: "conflict-duration", type: "number", value: "300", min: "1" });
  const result = h("div", { id: "conflict-result" });
  const check = async (event) => {
    event.preventDefault();
    try {
      const data = await ctx.api.post("/conflicts/check", {
        gateway_id: ctx.state.gatewayId, schedule: { type: type.value, ...schedule.read() },
        estimated_duration_seconds: Number(estimate.value) || 60,
      });
      clear(result, conflictReport(data));
    } catch (error) {
      clear(result, h("p", { class: error.missingRoute ? "muted" : "error",
        text: error.missingRoute ? "The conflict check (POST /conflicts/check) is not on this server yet." : error.message }));
    }
  };
  section.append(
    h("h3", { text: "Resources" }), gauges, alerts,
    h("h3", { text: "Check a schedule for conflicts" }),
    h("form", { id: "conflict-form", onsubmit: check }, h("div", { class: "param-grid" }, field("Schedule type", type),
      field("Estimated duration (s)", estimate)), paramsBox,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "conflict-check", text: "Check conflicts" }))),
    result,
  );
  drawGauges(ctx.state.metrics.resource_usage);
  ctx.on((kind, message) => {
    if (kind === "feed" && message.type === "resource_alert") {
      const d = message.data;
      alerts.prepend(h("li", { class: `alert alert-${d.level}`, text: `${new Date(message.timestamp).toISOString()} ${d.level}: ${d.message} (${d.resource} ${d.usage_percent}%)` }));
    }
  });
}

export function shown(ctx) {
  clearInterval(timer);
  timer = setInterval(async () => {
    try {
      const data = await ctx.api.get("/resources/usage");
      ctx.state.metrics.resource_usage = data.resource_usage;
      drawGauges(data.resource_usage);
    } catch { /* shown again on the next tick */ }
  }, 5000);
}

export function hidden() {
  clearInterval(timer);
}

function gauge(label, value, max, text) {
  const share = Math.max(0, Math.min(1, max ? value / max : 0));
  const level = share > 0.85 ? "high" : share > 0.6 ? "mid" : "low";
  return h("div", { class: `gauge gauge-${level}`, "data-gauge": label },
    h("div", { class: "gauge-dial", style: { "--share": String(share) } }, h("span", { class: "gauge-value", text })),
    h("div", { class: "gauge-label", text: label }));
}

function drawGauges(usage) {
  if (!gauges || !usage) return;
  clear(gauges,
    gauge("CPU", usage.cpu_usage_percent, 100, `${usage.cpu_usage_percent}%`),
    gauge("Job slots", usage.current_concurrent_jobs, usage.max_concurrent_jobs, `${usage.current_concurrent_jobs}/${usage.max_concurrent_jobs}`),
    gauge("Memory", usage.memory_usage_mb, 1024, `${usage.memory_usage_mb} MB`),
    gauge("Storage", usage.storage_usage_mb, 1024, `${usage.storage_usage_mb} MB`),
    gauge("Network", usage.network_usage_kbps, 1000, `${usage.network_usage_kbps} kbps`));
}
