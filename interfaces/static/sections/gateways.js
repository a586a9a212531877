// SECTION 3: the gateways the session grants, online or offline with when each was last seen;
// switching the page's context (remembered for the next visit) and a gateway's jobs.

import { ago, badge, clear, h, table, when } from "../dom.js";
import { switchGateway } from "../gateway.js";

export function render(ctx, section) {
  const jobsBox = h("div", { id: "gateway-jobs" });
  const rows = ctx.state.gateways;
  section.append(
    h("p", { class: "muted", text: `Current context: ${ctx.state.gatewayId}` }),
    table([
      ["Gateway", (g) => h("div", {}, h("strong", { text: g.name || g.id }), h("div", { class: "muted small", text: g.id }))],
      ["Status", (g) => badge(g.status)],
      ["Location", (g) => g.location || "—"],
      ["Last seen", (g) => h("span", { title: when(g.last_seen), text: ago(g.last_seen) })],
      ["Jobs", (g) => `${g.jobs_count} (${g.active_jobs} active)`],
      ["", (g) => h("div", { class: "row-actions" },
        h("button", { type: "button", text: "Jobs", "data-act": "gateway-jobs", onclick: () => showJobs(ctx, g, jobsBox) }),
        g.id === ctx.state.gatewayId ? h("span", { class: "muted", text: "current" })
          : h("button", { type: "button", class: "primary", text: "Switch", "data-act": "switch", onclick: () => switchGateway(g.id) }))],
    ], rows, { empty: "No gateway has reported yet.", rowAttrs: (g) => ({ "data-gateway-id": g.id }) }),
    jobsBox,
  );
}

async function showJobs(ctx, gateway, box) {
  try {
    const data = await ctx.api.get(`/gateways/${encodeURIComponent(gateway.id)}/jobs`);
    clear(box, h("h3", { text: `${data.gateway_name || data.gateway_id}: ${data.total_jobs} jobs, ${data.active_jobs} active` }),
      table([["Name", (j) => j.name], ["Type", (j) => j.type], ["Enabled", (j) => (j.enabled ? "yes" : "no")],
        ["Status", (j) => badge(j.status)], ["Next run", (j) => when(j.next_execution)]], data.jobs, { empty: "No jobs." }));
  } catch (error) {
    ctx.toast(error.message, "error");
  }
}
