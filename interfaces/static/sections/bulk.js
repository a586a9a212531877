// SECTION 6: run, disable and reset all jobs (with confirmation), export download, and import
// upload with the dry-run plan shown before it is applied (admin role, as the API has it).

import { clear, field, h, table, when } from "../dom.js";

function report(data) {
  const plain = Object.entries(data).filter(([, v]) => v === null || typeof v !== "object");
  return h("dl", { class: "details" }, plain.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: String(v) })]));
}

function missing(error, route) {
  return error.missingRoute ? `${route} is not on this server yet.` : error.message;
}

export function render(ctx, section) {
  const out = h("div", { id: "bulk-result" });
  if (!ctx.can("admin")) {
    section.append(h("p", { class: "muted", text: `Bulk operations and imports need the admin role (yours: ${ctx.state.role}).` }));
  }
  const operation = (label, id, path, body, message, extra) => h("button", {
    type: "button", class: "danger", id, text: label, onclick: async () => {
      if (!(await ctx.confirm(`${label}?`, message, label, extra?.fields))) return;
      try {
        const data = await ctx.api.post(path, { gateway_id: ctx.state.gatewayId, ...body(), ...(extra?.read() || {}) });
        clear(out, h("h4", { text: label }), report(data));
        ctx.toast(`${label}: done`, "ok");
        ctx.refreshJobs().catch(() => {});
      } catch (error) {
        clear(out, h("p", { class: "error", text: missing(error, `POST ${path}`) }));
      }
    },
  });
  const reason = h("input", { id: "disable-reason", placeholder: "System maintenance" });
  const minutes = h("input", { id: "disable-minutes", type: "number", min: "1", placeholder: "60" });
  const disableExtra = { fields: h("div", {}, field("Reason", reason), field("For how many minutes (empty: until enabled)", minutes)),
    read: () => ({ reason: reason.value || null, ...(minutes.value ? { duration_minutes: Number(minutes.value) } : {}) }) };
  const keepData = h("input", { type: "checkbox", id: "reset-keep", checked: true });
  const resetExtra = { fields: field("Keep execution history", keepData), read: () => ({ keep_data: keepData.checked }) };

  const file = h("input", { type: "file", id: "import-file", accept: ".json,application/json" });
  const strategy = h("select", { id: "import-strategy" }, ["merge", "replace"].map((s) => h("option", { value: s, text: s })));
  const plan = h("div", { id: "import-plan" });

  async function upload(dryRun, planToken) {
    if (!file.files.length) {
      ctx.toast("Choose a file first", "error");
      return null;
    }
    const form = new FormData();
    form.append("configFile", file.files[0]);
    form.append("gateway_id", ctx.state.gatewayId);
    form.append("strategy", strategy.value);
    form.append("dry_run", String(dryRun));
    if (planToken) form.append("plan_token", planToken);
    return ctx.api.post("/jobs/import", undefined, { form });
  }

  async function dryRun() {
    try {
      const data = await upload(true);
      if (!data) return;
      const entries = data.jobs; // docs/api.md, "Import": one step per job of the file
      const token = data.plan_token;
      const changed = (e) => Object.entries(e.changes || {}).map(([f, c]) => `${f}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`).join("; ");
      clear(plan, h("h4", { text: "Dry run: nothing is written until you apply" }), report(data),
        table([["Job", (e) => e.id], ["Action", (e) => h("span", { class: `badge badge-${e.action}`, text: e.action })],
          ["Reason", (e) => e.reason || ""], ["Changes", changed],
          ["Next fires", (e) => (e.next_executions || []).map(when).join(", ")]], entries, { empty: "The plan lists no job." }),
        h("div", { class: "actions" }, h("button", { type: "button", class: "primary", id: "import-apply", text: "Apply this plan",
          onclick: async () => {
            try {
              const applied = await upload(false, token);
              clear(plan, h("h4", { text: "Imported" }), report(applied));
              ctx.toast(`Imported ${applied.imported} of ${applied.processed}`, "ok");
              await ctx.refreshJobs();
            } catch (error) {
              plan.append(h("p", { class: "error", text: missing(error, "POST /jobs/import") }));
            }
          } })));
    } catch (error) {
      const bad = Array.isArray(error.details?.errors) ? error.details.errors : [];
      clear(plan, h("p", { class: error.missingRoute ? "muted" : "error", id: "import-error", text: missing(error, "POST /jobs/import") }),
        bad.length ? h("ul", {}, bad.map((b) => h("li", { text: JSON.stringify(b) }))) : null);
    }
  }

  async function exportJobs() {
    try {
      const response = await ctx.api.raw("POST", "/jobs/export", { gateway_id: ctx.state.gatewayId, format: "json", include_history: false, include_statistics: true });
      const disposition = response.headers.get("content-disposition") || "";
      const name = (/filename="?([^";]+)"?/.exec(disposition) || [])[1] || `jobs_export_${ctx.state.gatewayId}.json`;
      const url = URL.createObjectURL(await response.blob());
      const link = h("a", { href: url, download: name, id: "export-link", text: name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      ctx.toast(`Exported ${name}`, "ok");
    } catch (error) {
      clear(out, h("p", { class: "error", text: missing(error, "POST /jobs/export") }));
    }
  }

  const admin = ctx.can("admin");
  section.append(
    admin ? h("div", { class: "bulk-buttons" },
      operation("Run all jobs", "bulk-run", "/jobs/run/all", () => ({ sequential: false }), "Every enabled job of this gateway runs now."),
      operation("Disable all jobs", "bulk-disable", "/jobs/disable/all", () => ({}), "No job of this gateway fires until enabled again.", disableExtra),
      operation("Reset all jobs", "bulk-reset", "/jobs/reset/all", () => ({}), "Every job goes back to its default configuration.", resetExtra)) : null,
    out,
    h("h3", { text: "Export" }),
    h("button", { type: "button", id: "export", text: "Export configurations (JSON)", onclick: exportJobs }),
    ...(admin ? [h("h3", { text: "Import" }),
      h("form", { id: "import-form", onsubmit: (e) => { e.preventDefault(); dryRun(); } },
        h("div", { class: "param-grid" }, field("Configuration file", file), field("Strategy", strategy)),
        h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "import-dry-run", text: "Dry run" }))),
      plan] : []),
  );
}
