// SECTION 7: a job's executions with filters (/jobs/{id}/history), the logs viewer
// (/jobs/{id}/logs), charts of duration and success rate over time (/jobs/{id}/metrics) and the
// gateway's statistics (/statistics). Charts are uPlot (vendored, MIT), loaded when first needed.

import { badge, clear, duration, field, h, table, when } from "../dom.js";

let charts = [];

export function render(ctx, section) {
  const job = h("select", { id: "history-job" }, ctx.state.jobs.map((j) => h("option", { value: j.id, text: `${j.name} (${j.id})` })));
  const status = h("select", { id: "history-status" }, ["", "success", "failed", "timeout", "missed", "running"].map((s) => h("option", { value: s, text: s || "any" })));
  const from = h("input", { id: "history-from", type: "date" });
  const to = h("input", { id: "history-to", type: "date" });
  const granularity = h("select", { id: "history-granularity" }, ["hourly", "daily", "weekly"].map((g) => h("option", { value: g, text: g })));
  const range = h("select", { id: "stats-range" }, ["24h", "7d", "30d", "90d"].map((r) => h("option", { value: r, text: r })));
  const stats = h("div", { class: "cards", id: "stats-cards" });
  const list = h("div", { id: "history-table" });
  const logs = h("div", { id: "logs-viewer", class: "logs" });
  const chartBox = h("div", { id: "charts", class: "charts" });
  const summary = h("div", { id: "metrics-summary", class: "cards" });

  let asked = 0; // answers to an older choice (a slower request) are dropped, not drawn over newer ones
  const load = async () => {
    const mine = ++asked;
    if (!job.value) {
      clear(list, h("p", { class: "muted", text: "No job yet." }));
      return;
    }
    const id = encodeURIComponent(job.value);
    const query = new URLSearchParams({ limit: "100" });
    if (status.value) query.set("status", status.value);
    if (from.value) query.set("start_date", from.value);
    if (to.value) query.set("end_date", to.value);
    try {
      const [history, metrics] = await Promise.all([
        ctx.api.get(`/jobs/${id}/history?${query}`),
        ctx.api.get(`/jobs/${id}/metrics?granularity=${granularity.value}`),
      ]);
      if (mine !== asked) return;
      clear(list, h("p", { class: "muted", text: `${history.total_executions} executions · ${history.success_rate}% success` }),
        table([["Started", (e) => when(e.timestamp)], ["Trigger", (e) => e.trigger], ["Duration", (e) => duration(e.duration_ms)],
          ["Status", (e) => badge(e.status)], ["Message", (e) => e.message || ""],
          ["", (e) => h("button", { type: "button", text: "Logs", "data-act": "logs", onclick: () => showLogs(ctx, job.value, e.execution_id, logs) })]],
        history.history, { empty: "No execution matches.", rowAttrs: (e) => ({ "data-execution-id": e.execution_id }) }));
      await drawMetrics(metrics.metrics, summary, chartBox);
    } catch (error) {
      if (mine === asked) clear(list, h("p", { class: "error", text: error.message }));
    }
  };
  const loadStats = async () => {
    try {
      const { statistics: s } = await ctx.api.get(`/statistics?time_range=${range.value}`);
      const card = (label, value) => h("div", { class: "card" }, h("div", { class: "card-value", text: value }), h("div", { class: "card-label", text: label }));
      clear(stats, card("Executions", s.total_executions), card("Succeeded", s.successful_executions), card("Failed", s.failed_executions),
        card("Success rate", `${s.success_rate}%`), card("Average", duration(s.average_execution_time_ms)), card("Peak concurrent", s.peak_concurrent_jobs));
    } catch (error) {
      clear(stats, h("p", { class: "error", text: error.message }));
    }
  };
  for (const input of [job, status, from, to, granularity]) input.addEventListener("change", load);
  range.addEventListener("change", loadStats);
  section.append(
    h("div", { class: "toolbar" }, field("Gateway statistics over", range)), stats,
    h("div", { class: "toolbar" }, field("Job", job), field("Status", status), field("From", from), field("To", to), field("Chart by", granularity),
      h("button", { type: "button", id: "history-refresh", text: "Refresh", onclick: load })),
    summary, chartBox, list, h("h3", { text: "Logs" }), logs,
  );
  section.load = () => { loadStats(); load(); };
}

export function shown(ctx, section) {
  section.load?.();
}

async function showLogs(ctx, jobId, executionId, box) {
  try {
    const data = await ctx.api.get(`/jobs/${encodeURIComponent(jobId)}/logs?execution_id=${encodeURIComponent(executionId)}`);
    clear(box, h("p", { class: "muted", text: `${data.job_name} · ${executionId}` }),
      data.logs.length ? h("pre", { id: "log-lines" }, data.logs.map((l) => h("div", { class: `log log-${l.level}` },
        h("span", { class: "muted", text: `${l.timestamp} ` }), h("span", { class: "log-level", text: l.level.toUpperCase().padEnd(7) }), l.message)))
        : h("p", { class: "muted", text: "No log lines." }));
  } catch (error) {
    clear(box, h("p", { class: "error", text: error.message }));
  }
}

async function drawMetrics(metrics, summary, box) {
  const { default: uPlot } = await import("../vendor/uplot/uPlot.esm.js");
  const t = metrics.execution_times;
  const card = (label, value) => h("div", { class: "card" }, h("div", { class: "card-value", text: value }), h("div", { class: "card-label", text: label }));
  clear(summary, card("Average", duration(t.average_ms)), card("p95", duration(t.p95_ms)), card("Min", duration(t.min_ms)),
    card("Max", duration(t.max_ms)), card("Success rate", `${metrics.success_rate}%`));
  charts.forEach((c) => c.destroy());
  charts = [];
  clear(box);
  const x = metrics.series.map((b) => new Date(b.period_start).getTime() / 1000);
  if (!x.length) {
    box.append(h("p", { class: "muted", text: "No finished execution to chart yet." }));
    return;
  }
  const width = Math.max(280, Math.min(box.clientWidth || 600, 700));
  const make = (title, id, label, values, color) => {
    const holder = h("div", { class: "chart", id });
    box.append(holder);
    charts.push(new uPlot({ title, width: holder.clientWidth || width, height: 200, series: [{}, { label, stroke: color, width: 2, points: { show: true } }],
      // One period alone would be stretched over years: show the day around it.
      scales: { x: x.length > 1 ? { time: true } : { time: true, range: [x[0] - 43200, x[0] + 43200] } }, axes: [{}, { size: 60 }] }, [x, values], holder));
  };
  make("Average duration (ms)", "chart-duration", "ms", metrics.series.map((b) => b.average_ms), "#2563eb");
  make("Success rate (%)", "chart-success", "%", metrics.series.map((b) => b.success_rate), "#16a34a");
  box.dataset.drawn = "true";
}
