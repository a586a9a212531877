"""Job.reconfigure (an import's replace): the whole configuration from fields validated as a create's,
an unchanged schedule keeping its anchor, nothing recorded when nothing differs (fake clock)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import ValidationFailed
from domain.job import Job

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
FIELDS = {"name": "poll", "type": "interval", "schedule": {"interval_seconds": 60},
          "action": {"type": "publish", "topic": "t/a"}, "tags": ["a"]}


def _job() -> Job:
    job = Job.create(gateway_id="gw", job_id="job-1", fields=dict(FIELDS), actor="ops", now=T0)
    job.collect_events()
    return job


def test_the_same_configuration_records_nothing():
    job = _job()
    assert job.reconfigure(dict(FIELDS), actor="importer", now=T0 + timedelta(hours=1)) == {}
    assert job.pending_events == [] and job.version == 1


def test_a_renamed_job_keeps_its_schedule_anchor_and_reports_before_and_after():
    job = _job()
    changes = job.reconfigure({**FIELDS, "name": "renamed", "tags": []}, actor="importer", now=T0 + timedelta(hours=1))
    assert changes == {"name": {"before": "poll", "after": "renamed"}, "tags": {"before": ["a"], "after": []}}
    assert job.config.schedule_anchor == T0 and job.next_execution == T0 + timedelta(hours=1, minutes=1)
    assert [type(e).__qualname__ for e in job.pending_events] == ["Job.Updated"]


def test_a_changed_schedule_counts_from_the_reconfiguration_and_omitted_fields_take_their_defaults():
    job = _job()
    later = T0 + timedelta(hours=1)
    fields = {k: v for k, v in FIELDS.items() if k != "tags"}
    changes = job.reconfigure({**fields, "schedule": {"interval_seconds": 30}}, actor="importer", now=later)
    assert set(changes) == {"schedule", "tags"} and job.config.tags == []
    assert job.config.schedule_anchor == later and job.next_execution == later + timedelta(seconds=30)


def test_a_bad_configuration_is_refused_as_a_create_would_be():
    job = _job()
    with pytest.raises(ValidationFailed) as refused:
        job.reconfigure({**FIELDS, "schedule": {"interval_seconds": 0}}, actor="importer", now=T0)
    assert refused.value.details["field"] == "schedule.interval_seconds" and job.pending_events == []
