// SECTION 1: the status figures and the jobs table: filters (status, type, tags, enabled), sort,
// pagination, the toggle switch (with a reason), details, edit, run and delete with confirmation.

import { ago, badge, clear, duration, field, h, table, when } from "../dom.js";

const PAGE_SIZE = 25;
const SORTS = {
  created: (a, b) => String(a.created_at).localeCompare(String(b.created_at)),
  name: (a, b) => a.name.localeCompare(b.name),
  next: (a, b) => String(a.schedule.next_execution || "~").localeCompare(String(b.schedule.next_execution || "~")),
  last: (a, b) => String(b.last_execution || "").localeCompare(String(a.last_execution || "")),
  status: (a, b) => a.status.localeCompare(b.status),
};

export function scheduleSummary(job) {
  const s = job.schedule || {};
  switch (job.type) {
    case "interval": return `every ${duration((s.interval_seconds || 0) * 1000)}`;
    case "daily": return `daily ${s.time || ""} ${s.timezone || ""}`.trim();
    case "weekly": return `${(s.days || []).join(",")} ${s.time || ""} ${s.timezone || ""}`.trim();
    case "monthly": return `day ${s.day} ${s.time || ""} ${s.timezone || ""}`.trim();
    case "cron": return `${s.cron_expression} ${s.timezone || ""}`.trim();
    case "sunrise": return `${s.event || "sunrise"} ${s.offset_minutes ? `${s.offset_minutes > 0 ? "+" : ""}${s.offset_minutes} min` : ""}`.trim();
    case "once": return `once at ${when(s.at)}`;
    default: return job.type;
  }
}

export function init(ctx) {
  ctx.on((kind, message) => {
    if (kind === "jobs") redraw(ctx);
    if (kind === "feed" && message.type.startsWith("job_")) scheduleRefresh(ctx);
  });
}

let refreshTimer;
function scheduleRefresh(ctx) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => ctx.refreshJobs().catch(() => {}), 400);
}

const view = { status: "", type: "", tags: "", enabled: "", sort: "created", page: 0 };
let container;

export function render(ctx, section) {
  container = h("div", { id: "jobs-body" });
  const types = Object.keys(ctx.state.scheduler.templates.schedule_types);
  const onChange = (key) => (event) => { view[key] = event.target.value; view.page = 0; redraw(ctx); };
  section.append(
    h("div", { class: "cards", id: "status-cards" }),
    h("div", { class: "toolbar" },
      field("Status", h("select", { id: "filter-status", onchange: onChange("status") },
        ["", "active", "inactive", "error"].map((v) => h("option", { value: v, text: v || "any" })))),
      field("Type", h("select", { id: "filter-type", onchange: onChange("type") },
        ["", ...types].map((v) => h("option", { value: v, text: v || "any" })))),
      field("Tags", h("input", { id: "filter-tags", placeholder: "modbus, health", oninput: onChange("tags") })),
      field("Enabled", h("select", { id: "filter-enabled", onchange: onChange("enabled") },
        [["", "any"], ["true", "enabled"], ["false", "disabled"]].map(([v, t]) => h("option", { value: v, text: t })))),
      field("Sort", h("select", { id: "sort", onchange: onChange("sort") },
        [["created", "created"], ["name", "name"], ["next", "next run"], ["last", "last run"], ["status", "status"]]
          .map(([v, t]) => h("option", { value: v, text: t })))),
      ctx.can("operator") ? h("button", { type: "button", class: "primary", id: "new-job", text: "Create new job", onclick: () => ctx.show("create") }) : null,
    ),
    container,
  );
  redraw(ctx);
}

function statusCards(ctx) {
  const status = ctx.state.scheduler.status;
  const jobs = ctx.state.jobs;
  const card = (label, value, id) => h("div", { class: "card", id }, h("div", { class: "card-value", text: value }), h("div", { class: "card-label", text: label }));
  const el = document.getElementById("status-cards");
  if (!el) return;
  clear(el,
    card("System", status.system_status, "card-system"),
    card("Jobs", jobs.length, "card-total"),
    card("Active", jobs.filter((j) => j.status === "active").length, "card-active"),
    card("Failing", jobs.filter((j) => j.status === "error").length, "card-failed"),
    card("Success rate", `${status.success_rate}%`, "card-rate"),
    card("Next run", when(nextScheduled(jobs) || status.next_scheduled), "card-next"),
  );
}

function nextScheduled(jobs) {
  return jobs.map((j) => j.schedule.next_execution).filter(Boolean).sort()[0];
}

function selected(jobs) {
  const tags = view.tags.split(",").map((t) => t.trim()).filter(Boolean);
  return jobs.filter((j) => (!view.status || j.status === view.status)
    && (!view.type || j.type === view.type)
    && (!tags.length || j.tags.some((t) => tags.includes(t)))
    && (!view.enabled || String(j.enabled) === view.enabled)).sort(SORTS[view.sort]);
}

function redraw(ctx) {
  if (!container) return;
  statusCards(ctx);
  const rows = selected(ctx.state.jobs);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  view.page = Math.min(view.page, pages - 1);
  const shown = rows.slice(view.page * PAGE_SIZE, (view.page + 1) * PAGE_SIZE);
  const operator = ctx.can("operator");
  const columns = [
    ["Name", (j) => h("div", {}, h("strong", { class: "job-name", text: j.name }), h("div", { class: "muted small", text: j.id }))],
    ["Schedule", (j) => h("span", {}, h("span", { class: "type", text: j.type }), " ", scheduleSummary(j))],
    ["Next run", (j) => when(j.schedule.next_execution)],
    ["Last run", (j) => ago(j.last_execution)],
    ["Runs", (j) => `${j.execution_count} · ${duration(j.average_duration_ms)}`],
    ["Status", (j) => badge(j.status)],
    ["Tags", (j) => h("span", {}, j.tags.map((t) => h("span", { class: "tag", text: t })))],
    ["Enabled", (j) => operator
      ? h("input", { type: "checkbox", role: "switch", class: "switch", checked: j.enabled, "aria-label": `Enable ${j.name}`,
          "data-job": j.id, onclick: (e) => { e.preventDefault(); toggle(ctx, j); } })
      : h("span", { text: j.enabled ? "on" : "off" })],
    ["", (j) => h("div", { class: "row-actions" },
      h("button", { type: "button", text: "Details", "data-act": "details", onclick: () => details(ctx, j) }),
      operator ? h("button", { type: "button", text: "Edit", "data-act": "edit", onclick: () => ctx.edit(j) }) : null,
      operator ? h("button", { type: "button", text: "Run", "data-act": "run", onclick: () => run(ctx, j) }) : null,
      operator ? h("button", { type: "button", class: "danger", text: "Delete", "data-act": "delete", onclick: () => remove(ctx, j) }) : null)],
  ];
  clear(container,
    table(columns, shown, { empty: "No job matches.", rowAttrs: (j) => ({ "data-job-id": j.id }) }),
    h("div", { class: "pager" },
      h("button", { type: "button", text: "‹ Prev", disabled: view.page === 0, onclick: () => { view.page -= 1; redraw(ctx); } }),
      h("span", { id: "page-info", text: `${rows.length} jobs · page ${view.page + 1} of ${pages}` }),
      h("button", { type: "button", text: "Next ›", disabled: view.page >= pages - 1, onclick: () => { view.page += 1; redraw(ctx); } })),
  );
  document.body.dataset.jobsDrawn = String(performance.now());
}

async function toggle(ctx, job) {
  const enable = !job.enabled;
  const reason = h("input", { id: "toggle-reason", placeholder: "e.g. maintenance" });
  const ok = await ctx.confirm(`${enable ? "Enable" : "Disable"} ${job.name}?`,
    enable ? "The job will fire on its schedule again." : "The job will not fire until enabled.",
    enable ? "Enable" : "Disable", field("Reason (recorded in the log)", reason));
  if (!ok) return;
  try {
    await ctx.api.post(`/jobs/${encodeURIComponent(job.id)}/toggle`, { enabled: enable, reason: reason.value || null });
    ctx.toast(`${job.name} ${enable ? "enabled" : "disabled"}`, "ok");
    await ctx.refreshJobs();
  } catch (error) {
    ctx.toast(error.message, "error");
  }
}

async function run(ctx, job) {
  try {
    const started = await ctx.api.post(`/jobs/${encodeURIComponent(job.id)}/run`, { force: !job.enabled });
    ctx.toast(`Run of ${job.name} started: ${started.execution_id}`, "ok");
  } catch (error) {
    ctx.toast(error.message, "error");
  }
}

async function remove(ctx, job) {
  if (!(await ctx.confirm(`Delete ${job.name}?`, "The job is deleted for good; its history stays in the log.", "Delete"))) return;
  try {
    await ctx.api.del(`/jobs/${encodeURIComponent(job.id)}`);
    ctx.toast(`${job.name} deleted`, "ok");
    await ctx.refreshJobs();
  } catch (error) {
    ctx.toast(error.message, "error");
  }
}

async function details(ctx, summary) {
  try {
    const { job } = await ctx.api.get(`/jobs/${encodeURIComponent(summary.id)}`);
    const dl = (pairs) => h("dl", { class: "details" }, pairs.map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]));
    ctx.dialog(job.name, h("div", { id: "job-details" },
      dl([["Id", job.id], ["Description", job.description || "—"], ["Type", job.type], ["Status", badge(job.status)],
        ["Enabled", job.enabled ? "yes" : `no${job.metadata.disabled_reason ? ` (${job.metadata.disabled_reason})` : ""}`],
        ["Runs", `${job.statistics.total_executions} (${job.statistics.successful_executions} ok, ${job.statistics.failed_executions} failed)`],
        ["Average", duration(job.statistics.average_duration_ms)], ["Last run", when(job.statistics.last_execution)],
        ["Created", `${when(job.metadata.created_at)} by ${job.metadata.created_by || "?"}`],
        ["Updated", `${when(job.metadata.updated_at)} by ${job.metadata.updated_by || "?"}`]]),
      h("h4", { text: "Configuration" }), h("pre", { text: JSON.stringify(job.configuration, null, 2) }),
      h("h4", { text: "Next executions" }), h("ol", {}, job.next_executions.map((t) => h("li", { text: when(t) })))));
  } catch (error) {
    ctx.toast(error.message, "error");
  }
}
