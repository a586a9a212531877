import json
from tests.conftest import job_body, token, Api

def show(label, r):
    print(f"\n=== {label}: {r.status_code} {dict((k,v) for k,v in r.headers.items() if k.lower() in ('etag','content-type'))}\nBODY {r.text[:1500]}")

def test_probe(api, http):
    r = api.post("/jobs", job_body(gateway_id=api.gateway_id)); show("create", r)
    jid = r.json()["data"]["job_id"]
    show("list", api.get("/jobs"))
    show("detail", api.get(f"/jobs/{jid}"))
    show("status", api.get("/status"))
    show("templates", api.get("/templates"))
    show("tags", api.get("/tags"))
    show("gateways", api.get("/gateways"))
    show("gwjobs", api.get(f"/gateways/{api.gateway_id}/jobs"))
    show("validate", api.post("/schedules/validate", {"type": "cron", "cron_expression": "0 9-17 * * 1-5", "timezone": "America/New_York"}))
    show("put", api.put(f"/jobs/{jid}", {"tags": ["a"]}))
    show("toggle", api.post(f"/jobs/{jid}/toggle", {"enabled": False, "reason": "m"}))
    show("delete", api.delete(f"/jobs/{jid}"))
    show("healthz", http.get("/healthz"))
    show("readyz", http.get("/readyz"))
    show("schema", http.get("/schema/openapi.json"))
    show("unknown route", api.get("/nope"))
    show("wrong method", api.put("/jobs", {}))
    show("wrong method2", api.delete("/templates"))
    show("no token", http.get("/api/v1/scheduler/jobs", headers={"X-Gateway-ID": api.gateway_id}))
    show("bad token", http.get("/api/v1/scheduler/jobs", headers={"X-Gateway-ID": api.gateway_id, "Authorization": "Bearer abc"}))
    show("no gw", http.get("/api/v1/scheduler/jobs", headers={"Authorization": f"Bearer {token()}"}))
    show("malformed", api.post("/jobs", content=b"{not json", headers={"Content-Type": "application/json"}))
    for k, v in [("enabled","yes"),("tags","x"),("schedule",[]),("bogus",1),("type","hourly")]:
        show(f"wrong {k}", api.post("/jobs", job_body(**{k: v})))
    show("action", api.post("/jobs", job_body(action={"type": "teleport"})))
    show("cron", api.post("/jobs", job_body(type="cron", schedule={"cron_expression": "61 * * * *"})))
    show("longname", api.post("/jobs", job_body(name="x"*10000)))
    show("longname2", api.post("/jobs", job_body(name="x"*10001)))
    show("nul", api.post("/jobs", job_body(name="a\x00b")))
    show("big", api.post("/jobs", job_body(description="x"*(1024*1024+10))))
    for l in ["0","101","-1","abc"]:
        show(f"limit {l}", api.get("/jobs", params={"limit": l}))
    show("offset -1", api.get("/jobs", params={"offset": "-1"}))
    show("status bad", api.get("/jobs", params={"status": "zzz"}))
    show("enabled bad", api.get("/jobs", params={"enabled": "zzz"}))
    show("type bad", api.get("/jobs", params={"type": "zzz"}))
    show("other gw jobs", api.get("/gateways/gw-other/jobs"))
    show("validate bad", api.post("/schedules/validate", {"type": "cron", "cron_expression": "bad"}))
    show("validate unknown", api.post("/schedules/validate", {"type": "zzz"}))
