// SECTION 2: creating and editing a job: a form driven by /templates (fields per schedule and
// action type), tags from /tags, live validation from /schedules/validate as the user types (the
// next executions and the plain-English description) and a conflict check before saving.

import { clear, field, h, when } from "../dom.js";
import { defaults, inputs } from "./schedule_fields.js";

let editing = null;
let form;
let drawForm;

export function render(ctx, section) {
  if (!ctx.can("operator")) {
    section.append(h("p", { class: "muted", text: "Your role (viewer) may look but not create or change jobs." }));
    return;
  }
  form = h("form", { id: "job-form", class: "job-form", novalidate: true });
  section.append(form);
  drawForm = () => draw(ctx);
  draw(ctx);
}

export function shown(ctx) {
  // Tags others added since the page was drawn: asked for when the form is opened.
  if (!ctx.can("operator")) return;
  ctx.api.get("/tags?limit=200").then((data) => {
    ctx.state.scheduler.tags = data.tags;
    const list = document.getElementById("tag-options");
    if (list) clear(list, data.tags.map((t) => h("option", { value: t.name, text: `${t.name} (${t.job_count})` })));
  }).catch(() => {});
}

export function edit(ctx, job) {
  editing = job;
  if (drawForm) drawForm();
}

function draw(ctx) {
  const templates = ctx.state.scheduler.templates;
  const job = editing;
  const values = { type: job?.type || "interval", action: job?.action?.type || "publish" };
  const scheduleValues = job ? { ...job.schedule } : defaults(values.type);
  delete scheduleValues.next_execution;
  const name = h("input", { id: "job-name", name: "name", required: true, maxlength: 200, value: job?.name || "" });
  const description = h("input", { id: "job-description", name: "description", value: job?.description || "" });
  const enabled = h("input", { type: "checkbox", id: "job-enabled", checked: job ? job.enabled : true });
  const type = h("select", { id: "job-type" }, Object.entries(templates.schedule_types).map(([t, spec]) =>
    h("option", { value: t, text: `${t} — ${spec.description}`, selected: t === values.type })));
  const actionType = h("select", { id: "action-type" }, Object.entries(templates.action_types).map(([t, spec]) =>
    h("option", { value: t, text: `${t} — ${spec.description}`, selected: t === values.action })));
  const tags = h("input", { id: "job-tags", list: "tag-options", value: (job?.tags || []).join(", "), placeholder: "modbus, polling" });
  const scheduleBox = h("div", { class: "param-grid", id: "schedule-params" });
  const actionBox = h("div", { class: "param-grid", id: "action-params" });
  const preview = h("div", { id: "schedule-preview", class: "preview", "aria-live": "polite" });
  const conflictsBox = h("div", { id: "form-conflicts" });
  let schedule = inputs("sched", templates.schedule_types[values.type].parameters, scheduleValues, () => validateSoon());
  let action = inputs("action", templates.action_types[values.action].parameters, job?.action || {}, () => {});
  clear(scheduleBox, schedule.fields);
  clear(actionBox, action.fields);
  type.addEventListener("change", () => {
    schedule = inputs("sched", templates.schedule_types[type.value].parameters, defaults(type.value), () => validateSoon());
    clear(scheduleBox, schedule.fields);
    validateSoon();
  });
  actionType.addEventListener("change", () => {
    action = inputs("action", templates.action_types[actionType.value].parameters, {}, () => {});
    clear(actionBox, action.fields);
  });

  let timer;
  let asked = 0;
  function validateSoon() {
    clearTimeout(timer);
    timer = setTimeout(validate, 300);
  }
  async function validate() {
    const mine = ++asked;
    try {
      const data = await ctx.api.post("/schedules/validate", { type: type.value, ...schedule.read(), count: 5 });
      if (mine !== asked) return;
      clear(preview, h("p", { class: "ok", id: "schedule-description", text: `✓ ${data.description}` }),
        h("ol", { id: "schedule-next" }, data.next_executions.map((t) => h("li", { text: when(t) }))));
    } catch (error) {
      if (mine !== asked) return;
      const where = error.details?.field ? ` (${error.details.field})` : "";
      clear(preview, h("p", { class: "error", id: "schedule-error", text: `✗ ${error.message}${where}` }));
    }
  }

  const body = () => ({
    name: name.value.trim(), description: description.value.trim(), type: type.value, enabled: enabled.checked,
    schedule: schedule.read(), action: { type: actionType.value, ...action.read() },
    tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
  });

  async function save(event) {
    event.preventDefault();
    const request = body();
    if (!request.name) {
      ctx.toast("A job needs a name", "error");
      name.focus();
      return;
    }
    if (!(await conflictCheck(ctx, request, conflictsBox))) return;
    try {
      if (job) {
        await ctx.api.put(`/jobs/${encodeURIComponent(job.id)}`, request);
        ctx.toast(`${request.name} updated`, "ok");
      } else {
        const created = await ctx.api.post("/jobs", request);
        ctx.toast(`${request.name} created (${created.job_id}), next run ${when(created.next_execution)}`, "ok");
      }
      editing = null;
      await ctx.refreshJobs();
      draw(ctx);
      ctx.show("jobs");
    } catch (error) {
      const where = error.details?.field ? ` (${error.details.field})` : "";
      ctx.toast(`${error.message}${where}`, "error");
    }
  }

  clear(form,
    h("h3", { id: "form-title", text: job ? `Edit ${job.name}` : "New job" }),
    h("div", { class: "param-grid" },
      field("Name", name), field("Description", description),
      field("Schedule type", type), field("Action type", actionType),
      field("Tags", tags, "comma-separated; known tags are suggested"), field("Enabled", enabled)),
    h("datalist", { id: "tag-options" }, (ctx.state.scheduler.tags || []).map((t) => h("option", { value: t.name }))),
    h("h4", { text: "Schedule" }), scheduleBox, preview,
    h("h4", { text: "Action" }), actionBox, conflictsBox,
    h("div", { class: "actions" },
      job ? h("button", { type: "button", text: "Cancel edit", onclick: () => { editing = null; draw(ctx); } }) : null,
      h("button", { type: "submit", class: "primary", id: "save-job", text: job ? "Save changes" : "Create job" })),
  );
  form.onsubmit = save;
  validate();
}

// The conflict check before saving; true when the job may be saved.
async function conflictCheck(ctx, request, box) {
  clear(box);
  try {
    const data = await ctx.api.post("/conflicts/check", {
      job_id: editing?.id, gateway_id: ctx.state.gatewayId,
      schedule: { type: request.type, ...request.schedule }, estimated_duration_seconds: 60,
    });
    if (!data.has_conflicts) return true;
    const { conflictReport } = await import("./conflicts.js");
    return await ctx.dialog("Schedule conflicts", conflictReport(data), [["Change schedule", false], ["Save anyway", true, "danger"]]) === true;
  } catch (error) {
    if (error.missingRoute) {
      box.append(h("p", { class: "muted small", text: "Conflict check not available on this server yet." }));
      return true;
    }
    ctx.toast(`Conflict check failed: ${error.message}`, "error");
    return false;
  }
}
