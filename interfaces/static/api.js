// The API as the page calls it: the session cookie, the gateway context, the CSRF token on
// every unsafe request; answers unwrapped from the contract's envelope, failures thrown.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
  get missingRoute() {
    // A route this server does not have yet (another branch builds it): no route at that path,
    // or a path that only matches another route's pattern (/jobs/export as /jobs/{job_id}).
    return (this.status === 404 && this.code === "NOT_FOUND") || (this.status === 405 && this.code === "METHOD_NOT_ALLOWED");
  }
}

export function makeApi(context) {
  async function call(method, path, body, { form, raw } = {}) {
    const headers = { "X-Gateway-ID": context.gatewayId, Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = context.csrf;
    let payload;
    if (form) payload = form;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const response = await fetch(context.prefix + path, {
      method, headers, body: payload, credentials: "same-origin", redirect: "manual",
    });
    if (response.type === "opaqueredirect" || response.status === 401) {
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
      throw new ApiError(401, "UNAUTHORIZED", "The session ended; sign in again");
    }
    if (raw && response.ok) return response;
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      throw new ApiError(response.status, "INTERNAL_ERROR", `HTTP ${response.status}`);
    }
    if (!response.ok || answer.success === false) {
      const error = answer.error || {};
      throw new ApiError(response.status, error.code || "ERROR", answer.message || `HTTP ${response.status}`, error.details);
    }
    return answer.data;
  }
  return {
    get: (path) => call("GET", path),
    post: (path, body, options) => call("POST", path, body, options),
    put: (path, body, headers) => call("PUT", path, body, headers),
    del: (path) => call("DELETE", path),
    raw: (method, path, body) => call(method, path, body, { raw: true }),
  };
}

// Every job of the gateway, page by page (the list answers at most 100 per request).
export async function allJobs(api) {
  const jobs = [];
  for (let offset = 0; ; offset += 100) {
    const page = await api.get(`/jobs?limit=100&offset=${offset}`);
    jobs.push(...page.jobs);
    if (jobs.length >= page.total_jobs || page.jobs.length === 0) return jobs;
  }
}
