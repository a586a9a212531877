"""Export files and their reading: JSON and YAML carry the whole document, CSV one job per row (no
history). A file to import is anyone's: it is read with bounded depth and no YAML aliases, every
value checked against the wire structs, and each bad job named (index, id, field)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any

import msgspec
import yaml

from domain.errors import ImportFailed, SchedulerError
from interfaces.api.schemas.transfer import (
    EXPORT_TYPE,
    FORMAT_VERSION,
    ExportDocument,
    Format,
    ImportedFile,
    ImportedJob,
)

MAX_IMPORT_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 32  # a job's deepest value (a system action's parameters) is far shallower
MEDIA_TYPES: dict[str, str] = {"json": "application/json", "yaml": "application/yaml", "csv": "text/csv"}
CSV_SETTINGS = ("id", "name", "description", "type", "enabled", "tags", "schedule", "action", "options")
CSV_STATISTICS = ("total_executions", "successful_executions", "failed_executions", "average_duration_ms",
                  "last_execution", "last_status")
_JSON_COLUMNS = ("schedule", "action", "options")
_ENCODE = msgspec.json.Encoder().encode
Progress = Callable[[int, int], None]


class FileTooLarge(SchedulerError):
    code = "PAYLOAD_TOO_LARGE"


class ExportFailed(SchedulerError):
    """A job in the read models that the export document cannot describe (a bug to report)."""

    code = "EXPORT_FAILED"


def _failed(message: str, field: str, reason: str, index: int | None = None, job_id: Any = None) -> ImportFailed:
    fault = {"index": index, "id": job_id, "field": field, "code": "IMPORT_FAILED", "reason": reason,
             "message": message}
    return ImportFailed(message, {"errors": [fault]})


# ---- writing --------------------------------------------------------------------------------


def render(document: dict[str, Any], fmt: Format) -> bytes:
    """The document as a file. It is converted to its struct first, so a file never says what the
    OpenAPI document does not."""
    try:
        checked = msgspec.convert(document, ExportDocument)
    except msgspec.ValidationError as error:
        raise ExportFailed(f"A job cannot be exported: {error}", {"reason": str(error)}) from None
    if fmt == "json":
        return _ENCODE(checked)
    plain = msgspec.to_builtins(checked)
    if fmt == "yaml":
        return yaml.dump(plain, Dumper=_YAML_DUMPER, sort_keys=False, allow_unicode=True).encode()
    return _csv(plain)


def _csv(document: dict[str, Any]) -> bytes:
    per_job = (document.get("statistics") or {}).get("jobs")
    columns = CSV_SETTINGS + (CSV_STATISTICS if per_job is not None else ())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for job in document["jobs"]:
        row = [job["id"], job["name"], job["description"], job["type"], "true" if job["enabled"] else "false",
               ",".join(job["tags"]), *(json.dumps(job[c], separators=(",", ":")) for c in _JSON_COLUMNS)]
        if per_job is not None:
            stats = per_job.get(job["id"], {})
            row += ["" if stats.get(c) is None else stats[c] for c in CSV_STATISTICS]
        writer.writerow(row)
    return out.getvalue().encode()


# ---- reading --------------------------------------------------------------------------------


# libyaml's safe loader when installed (PyYAML's pure-Python one reads a large file ten times slower).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_OPENS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSES = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _yaml(text: str) -> Any:
    """safe_load, after a pass over the parser's events (no recursion) that refuses aliases (an
    alias bomb never expands) and nesting beyond MAX_DEPTH (it never reaches the composer)."""
    depth = 0
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        if isinstance(event, yaml.AliasEvent):
            raise _failed("YAML aliases (*name) are not accepted", "file", "alias")
        if isinstance(event, _OPENS):
            depth += 1
            if depth > MAX_DEPTH:
                raise _failed(f"The file is nested deeper than {MAX_DEPTH} levels", "file", "too deeply nested")
        elif isinstance(event, _CLOSES):
            depth -= 1
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader (SafeLoader or its C twin)


def _format(content: bytes, filename: str | None) -> Format:
    name = (filename or "").lower()
    for suffix, fmt in ((".json", "json"), (".yaml", "yaml"), (".yml", "yaml"), (".csv", "csv")):
        if name.endswith(suffix):
            return fmt  # type: ignore[return-value]
    head = content.lstrip()[:64]
    if head.startswith(b"{"):
        return "json"
    if head.startswith(b"id,"):
        return "csv"
    return "yaml"


def _plain(value: Any, depth: int = 0) -> Any:
    """The value as JSON's types (a YAML date becomes its ISO text), refusing NUL characters,
    other types (binary, sets) and nesting beyond MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise _failed(f"The file is nested deeper than {MAX_DEPTH} levels", "file", "too deeply nested")
    if isinstance(value, str):
        if "\x00" in value:
            raise _failed("The file must not contain NUL characters", "file", "NUL character")
        return value
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(item, depth + 1) for item in value]
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _failed(f"Keys must be strings, not {key!r}", "file", "non-string key")
            out[_plain(key, depth + 1)] = _plain(item, depth + 1)
        return out
    raise _failed(f"A value of type {type(value).__name__} is not accepted", "file", "unsupported value")


def _document(text: str, fmt: Format) -> Any:
    try:
        if fmt == "json":
            return msgspec.json.decode(text)
        if fmt == "yaml":
            return _yaml(text)
        return _csv_document(text)
    except RecursionError:
        raise _failed("The file is nested too deeply", "file", "too deeply nested") from None
    except (msgspec.DecodeError, yaml.YAMLError, csv.Error) as error:
        raise _failed(f"The file is not valid {fmt.upper()}: {error}", "file", f"not {fmt}") from None


def _csv_document(text: str) -> dict[str, Any]:
    """A CSV export as the document JSON would hold; a cell that cannot be read is left as text
    for the job's check to name."""
    rows = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    columns = rows.fieldnames or []
    unknown = [c for c in columns if c not in CSV_SETTINGS + CSV_STATISTICS]
    if unknown or "id" not in columns:
        raise csv.Error(f"expected the columns {', '.join(CSV_SETTINGS)}; unknown: {', '.join(map(str, unknown))}")
    jobs = []
    for row in rows:
        if None in row:
            raise csv.Error(f"line {rows.line_num} has more cells than the header")
        job: dict[str, Any] = {k: v for k, v in row.items() if k in CSV_SETTINGS and v is not None}
        if job.get("enabled") in ("true", "false"):
            job["enabled"] = job["enabled"] == "true"
        if "tags" in job:
            job["tags"] = [t for t in job["tags"].split(",") if t]
        for column in _JSON_COLUMNS:
            if job.get(column) == "" and column == "options":
                job.pop(column)
            elif column in job:
                try:
                    job[column] = json.loads(job[column])
                except ValueError:
                    pass
        jobs.append(job)
    return {"export_type": EXPORT_TYPE, "format_version": FORMAT_VERSION, "jobs": jobs}


_NAMED = re.compile(r"(?:unknown|missing required) field `(?P<name>[^`]+)`")


def _where(error: msgspec.ValidationError) -> str:
    """The field msgspec's message names: its path, and the unknown or missing field's name."""
    text = str(error)
    at = text.rfind("at `$")
    path = text[at + 5:].strip("`").lstrip(".") if at >= 0 else ""
    named = _NAMED.search(text)
    if named:
        path = f"{path}.{named.group('name')}" if path else named.group("name")
    return path


def read_jobs(content: bytes, filename: str | None = None, on_progress: Progress | None = None) -> list[dict[str, Any]]:
    """The jobs of an export file, each checked against the shape a create accepts (with its id);
    IMPORT_FAILED naming every bad job otherwise. Nothing here knows the gateway's state."""
    if len(content) > MAX_IMPORT_BYTES:
        raise FileTooLarge(f"The file is larger than {MAX_IMPORT_BYTES} bytes", {"limit": MAX_IMPORT_BYTES})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _failed("The file is not UTF-8 text", "file", "not UTF-8") from None
    fmt = _format(content, filename)
    document = _plain(_document(text, fmt))
    if not isinstance(document, dict) or "export_type" not in document:
        raise _failed("The file is not a job export (no export_type)", "export_type", "missing")
    try:
        envelope = msgspec.convert(document, ImportedFile, strict=True)
    except msgspec.ValidationError as error:
        raise _failed(f"The file is not a job export: {error}", _where(error) or "file", str(error)) from None
    if envelope.export_type != EXPORT_TYPE:
        raise _failed(f"export_type must be {EXPORT_TYPE!r}", "export_type", "not a job export")
    if envelope.format_version != FORMAT_VERSION:
        raise _failed(f"format_version {envelope.format_version} is not supported (this version reads "
                      f"{FORMAT_VERSION})", "format_version", "unsupported")
    jobs, faults = [], []
    for index, raw in enumerate(envelope.jobs):
        job_id = raw.get("id") if isinstance(raw, dict) else None
        try:
            job = msgspec.convert(raw, ImportedJob, strict=True)
        except msgspec.ValidationError as error:
            faults.append({"index": index, "id": job_id, "field": _where(error) or "job", "code": "VALIDATION_ERROR",
                           "reason": str(error), "message": f"Job {index} has the wrong shape: {error}"})
        else:
            jobs.append({k: v for k, v in msgspec.structs.asdict(job).items() if v is not None})
        if on_progress is not None:
            on_progress(index + 1, len(envelope.jobs))
    if faults:
        raise ImportFailed(f"{len(faults)} of {len(envelope.jobs)} jobs cannot be imported; nothing was imported",
                           {"errors": faults})
    return jobs
