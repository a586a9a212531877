// SECTION 4: what each schedule type does (from /templates), and the week ahead: each job a lane
// with its fires over the next 7 days, from /schedules/validate (the server's schedule arithmetic,
// time zones and DST included), so an operator sees the week at a glance.

import { clear, h, when } from "../dom.js";

const DAYS = 7;
const LANES = 40;
const PER_LANE = 100;

export function render(ctx, section) {
  const types = ctx.state.scheduler.templates.schedule_types;
  section.append(
    h("div", { class: "type-cards" }, Object.entries(types).map(([name, spec]) => h("div", { class: "card type-card" },
      h("h3", { text: name }), h("p", { text: spec.description }),
      h("p", { class: "muted small", text: spec.parameters.join(", ") }),
      h("p", { class: "small", text: `${ctx.state.jobs.filter((j) => j.type === name).length} jobs` })))),
    h("h3", { text: "Next 7 days" }),
    h("div", { id: "calendar", class: "calendar" }, h("p", { class: "muted", text: "Loading the week…" })),
  );
  drawCalendar(ctx, section.querySelector("#calendar"));
}

async function drawCalendar(ctx, box) {
  const start = new Date();
  const end = new Date(start.getTime() + DAYS * 86400000);
  const jobs = ctx.state.jobs.filter((j) => j.enabled && j.schedule.next_execution)
    .sort((a, b) => String(a.schedule.next_execution).localeCompare(String(b.schedule.next_execution))).slice(0, LANES);
  const lanes = await Promise.all(jobs.map(async (job) => {
    const params = { ...job.schedule };
    delete params.next_execution;
    try {
      const data = await ctx.api.post("/schedules/validate", { type: job.type, ...params, count: PER_LANE, start: start.toISOString() });
      const fires = data.next_executions.map((t) => new Date(t)).filter((t) => t < end);
      // Every one of the fires asked for falls within the week: more follow than a lane can tick.
      return { job, fires, capped: fires.length === PER_LANE };
    } catch (error) {
      return { job, fires: [], error: error.message };
    }
  }));
  const span = end - start;
  const head = h("div", { class: "cal-row cal-head" }, h("div", { class: "cal-label", text: "Job" }),
    h("div", { class: "cal-track" }, Array.from({ length: DAYS }, (_, i) => {
      const day = new Date(start.getTime() + i * 86400000);
      return h("span", { class: "cal-day", style: { left: `${(i / DAYS) * 100}%`, width: `${100 / DAYS}%` },
        text: day.toLocaleDateString(undefined, { weekday: "short", day: "numeric", timeZone: "UTC" }) });
    })));
  const rows = lanes.map(({ job, fires, capped, error }) => {
    const track = h("div", { class: "cal-track" });
    if (capped && fires.length) {
      const last = fires[fires.length - 1];
      // Denser than the ticks can show: a band from the first fire to the end of the week.
      track.append(h("span", { class: "cal-band", title: `≈${Math.round(fires.length / ((last - start) / 86400000 || 1))}/day`,
        style: { left: `${((fires[0] - start) / span) * 100}%`, right: "0%" } }));
    } else {
      for (const t of fires) track.append(h("span", { class: "cal-tick", title: when(t.toISOString()), style: { left: `${((t - start) / span) * 100}%` } }));
    }
    const label = error ? `${job.name} (${error})` : `${job.name} · ${capped ? `${PER_LANE}+` : fires.length} fires`;
    return h("div", { class: "cal-row", "data-job-id": job.id }, h("div", { class: "cal-label", title: job.id, text: label }), track);
  });
  clear(box, rows.length ? [head, ...rows] : h("p", { class: "muted", text: "No enabled job fires in the next 7 days." }),
    ctx.state.jobs.length > LANES ? h("p", { class: "muted small", text: `The first ${LANES} jobs to fire are shown.` }) : null);
  box.dataset.drawn = "true";
}
