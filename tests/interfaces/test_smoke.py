from tests.conftest import job_body


def test_created_job_is_listed(api):
    r = api.post("/jobs", job_body())
    assert r.status_code == 201, r.text
    job_id = r.json()["data"]["job_id"]
    r = api.get("/jobs")
    assert r.status_code == 200, r.text
    assert [j["id"] for j in r.json()["data"]["jobs"]] == [job_id]
