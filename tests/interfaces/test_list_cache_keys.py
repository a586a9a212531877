"""The job list's cache key is made of the list handler's own query parameters: a filter added to
the handler makes pages of its own, never sharing an entry with the unfiltered list."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from interfaces.api.job_queries import LIST_PARAMETERS
from interfaces.api.response_cache import page_key, query_parameters

API = "/api/v1/scheduler"


def test_every_documented_list_parameter_makes_pages_of_its_own(http):
    operation = http.get("/schema/openapi.json").json()["paths"][f"{API}/jobs"]["get"]
    documented = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert documented == LIST_PARAMETERS
    for name in documented:
        assert page_key("gw", f"{name}=1".encode(), LIST_PARAMETERS) != page_key("gw", b"", LIST_PARAMETERS), name


def test_a_filter_added_to_a_handler_is_in_its_key_even_without_a_marker():
    def handler(
        self, ctx: NamedDependency[object], job_id: FromPath[str],
        status: Annotated[str | None, QueryParameter(name="state")] = None, owner: str | None = None,
    ) -> None: ...

    parameters = query_parameters(handler)
    assert parameters == {"state", "owner"}
    assert page_key("gw", b"owner=ann", parameters) != page_key("gw", b"owner=bob", parameters)
    assert page_key("gw", b"owner=ann&ignored=1", parameters) == page_key("gw", b"owner=ann", parameters)


def test_a_filtered_page_is_not_served_from_the_unfiltered_ones_entry(api):
    api.post("/jobs", {"name": "a", "type": "interval", "schedule": {"interval_seconds": 60},
                       "action": {"type": "publish", "topic": "t/a"}, "tags": ["x"]})
    assert len(api.get("/jobs").json()["data"]["jobs"]) == 1  # cached now
    assert api.get("/jobs", params={"tags": "y"}).json()["data"]["jobs"] == []
