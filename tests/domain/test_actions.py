"""Action value objects: every validation rule, the canonical round trip and PUT merging."""

from __future__ import annotations

import pytest

from domain.actions import (
    ACTION_TYPES,
    FILE_OPERATIONS,
    SYSTEM_OPERATIONS,
    FileAction,
    PublishAction,
    SystemAction,
    merge_action,
    parse_action,
)
from domain.errors import ActionNotSupported, ValidationFailed


def publish(**fields):
    return {"type": "publish", "topic": "device/data/modbus", **fields}


def file_action(**fields):
    return {"type": "file", "operation": "cleanup", "pattern": "logs/*.log", **fields}


def assert_invalid(params, field, error=ValidationFailed):
    with pytest.raises(error) as caught:
        parse_action(params)
    assert caught.value.details["field"] == field
    assert caught.value.details["reason"]
    return caught.value


def test_action_types_list_every_parameter_each_parser_accepts():
    assert ACTION_TYPES["publish"] == {"description": "Publish data to MQTT topic",
                                       "parameters": ["topic", "payload_template", "qos", "retain"]}
    assert ACTION_TYPES["system"]["parameters"] == ["operation", "parameters"]
    assert ACTION_TYPES["file"]["parameters"] == ["operation", "pattern", "retain_days", "destination"]
    assert "health_check" in SYSTEM_OPERATIONS
    assert set(FILE_OPERATIONS) == {"cleanup", "archive"}


def test_publish_gets_its_defaults():
    action = parse_action(publish())
    assert action == PublishAction(topic="device/data/modbus", payload_template="", qos=0, retain=False)
    assert action.to_dict() == {"type": "publish", "topic": "device/data/modbus", "payload_template": "",
                                "qos": 0, "retain": False}


@pytest.mark.parametrize("params", [
    publish(payload_template='{"t": "${NOW}"}', qos=2, retain=True),
    {"type": "system", "operation": "health_check"},
    {"type": "system", "operation": "health_check", "parameters": {"verbose": True, "n": [1, 2]}},
    file_action(retain_days=0),
    file_action(operation="archive", destination="old/logs"),
])
def test_canonical_form_round_trips(params):
    action = parse_action(params)
    assert parse_action(action.to_dict()) == action
    assert action.to_dict()["type"] == params["type"]


def test_unknown_type_is_not_supported():
    error = assert_invalid({"type": "shell", "command": "rm -rf /"}, "action.type", ActionNotSupported)
    assert error.code == "ACTION_NOT_SUPPORTED"


@pytest.mark.parametrize("params", [{}, {"type": None}, {"type": 3}])
def test_missing_or_non_string_type_is_invalid(params):
    assert assert_invalid(params, "action.type").code == "VALIDATION_ERROR"


def test_non_mapping_is_invalid():
    assert_invalid(["publish"], "action")


@pytest.mark.parametrize("params, key", [
    (publish(pattern="*.log"), "pattern"),
    ({"type": "system", "operation": "health_check", "command": "ls"}, "command"),
    (file_action(topic="x"), "topic"),
])
def test_unknown_key_is_named(params, key):
    assert_invalid(params, f"action.{key}")


@pytest.mark.parametrize("topic, reason_part", [
    ("", "empty"), ("   ", "empty"), ("a" * 257, "256"), ("device/+/data", "wildcard"),
    ("device/#", "wildcard"), ("dev\x00ice", "NUL"), ("$SYS/broker", "$"),
])
def test_publish_topic_rules(topic, reason_part):
    error = assert_invalid(publish(topic=topic), "action.topic")
    assert reason_part in error.details["reason"]


def test_publish_topic_is_required_and_a_string():
    assert_invalid({"type": "publish"}, "action.topic")
    assert_invalid(publish(topic=42), "action.topic")


def test_publish_topic_of_256_characters_is_accepted():
    assert parse_action(publish(topic="a" * 256)).topic == "a" * 256


def test_payload_template_is_a_string_of_at_most_64_kib():
    assert parse_action(publish(payload_template="x" * 65536)).payload_template == "x" * 65536
    assert_invalid(publish(payload_template="x" * 65537), "action.payload_template")
    assert_invalid(publish(payload_template="é" * 32769), "action.payload_template")
    assert_invalid(publish(payload_template={"a": 1}), "action.payload_template")


@pytest.mark.parametrize("qos", [3, -1, True, False, 1.0, "1"])
def test_qos_must_be_integer_0_1_or_2(qos):
    assert_invalid(publish(qos=qos), "action.qos")


@pytest.mark.parametrize("retain", [1, 0, "true", "false"])
def test_retain_must_be_a_boolean(retain):
    assert_invalid(publish(retain=retain), "action.retain")


def test_none_counts_as_absent_for_optional_fields():
    assert parse_action(publish(qos=None, payload_template=None)) == PublishAction(topic="device/data/modbus")


def test_system_operation_outside_the_whitelist_is_not_supported():
    assert_invalid({"type": "system", "operation": "reboot"}, "action.operation", ActionNotSupported)
    assert_invalid({"type": "system"}, "action.operation")


@pytest.mark.parametrize("parameters", [[1, 2], "x", {"f": float("nan")}, {"f": object()},
                                        {"big": "x" * 20000}])
def test_system_parameters_must_be_a_small_json_object(parameters):
    assert_invalid({"type": "system", "operation": "health_check", "parameters": parameters},
                   "action.parameters")


def test_system_parameters_are_copied_not_shared():
    parameters = {"nested": {"a": 1}}
    action = parse_action({"type": "system", "operation": "health_check", "parameters": parameters})
    parameters["nested"]["a"] = 2
    assert action.parameters == {"nested": {"a": 1}}
    action.to_dict()["parameters"]["nested"]["a"] = 3
    assert action.parameters == {"nested": {"a": 1}}
    assert hash(action) == hash(parse_action(action.to_dict()))


def test_file_defaults():
    assert parse_action(file_action()) == FileAction(operation="cleanup", pattern="logs/*.log", retain_days=7)
    archive = parse_action(file_action(operation="archive"))
    assert archive.destination == "archive"
    assert archive.to_dict()["destination"] == "archive"
    assert "destination" not in parse_action(file_action()).to_dict()


def test_file_operation_outside_the_list_is_not_supported():
    assert_invalid(file_action(operation="delete_all"), "action.operation", ActionNotSupported)


@pytest.mark.parametrize("pattern", ["/etc/*", "\\windows\\*", "C:/x/*", "../x", "logs/../../x", "a/..",
                                     "..", "logs\\..\\..\\x", "", "a\x00b", "a" * 1025])
def test_pattern_that_could_leave_the_root_is_invalid(pattern):
    assert assert_invalid(file_action(pattern=pattern), "action.pattern").code == "VALIDATION_ERROR"


@pytest.mark.parametrize("pattern", ["*.log", "**/*.tmp", "logs/app-*.log", "./cache/*", "a..b/*.log"])
def test_relative_patterns_are_accepted(pattern):
    assert parse_action(file_action(pattern=pattern)).pattern == pattern


@pytest.mark.parametrize("retain_days", [-1, 1.5, "7", True, 36501])
def test_retain_days_must_be_a_non_negative_integer(retain_days):
    assert_invalid(file_action(retain_days=retain_days), "action.retain_days")


@pytest.mark.parametrize("destination", ["/tmp/out", "../out", "out/../..", "*", "arch[0]", ".", "./", 5])
def test_archive_destination_must_be_a_directory_below_the_root(destination):
    assert_invalid(file_action(operation="archive", destination=destination), "action.destination")


def test_destination_is_only_for_archive():
    assert_invalid(file_action(destination="archive"), "action.destination")


def test_merge_updates_only_the_given_fields():
    current = parse_action(publish(payload_template="old", qos=1))
    merged = merge_action(current, {"payload_template": '{"interval": "30s"}'})
    assert merged == PublishAction(topic="device/data/modbus", payload_template='{"interval": "30s"}', qos=1)


def test_merge_with_the_same_type_behaves_as_a_partial_update():
    current = parse_action(publish(qos=2, retain=True))
    assert merge_action(current, {"type": "publish", "topic": "x/y"}) == PublishAction(
        topic="x/y", qos=2, retain=True)


def test_merge_revalidates_the_result():
    with pytest.raises(ValidationFailed) as caught:
        merge_action(parse_action(publish()), {"qos": 5})
    assert caught.value.details["field"] == "action.qos"
    with pytest.raises(ValidationFailed):
        merge_action(parse_action(publish()), {"pattern": "*.log"})


def test_merge_with_null_resets_a_field_to_its_default():
    merged = merge_action(parse_action(publish(qos=2)), {"qos": None})
    assert merged.qos == 0


def test_merge_with_another_type_replaces_the_action():
    current = parse_action(publish(qos=2))
    replaced = merge_action(current, {"type": "system", "operation": "health_check"})
    assert replaced == SystemAction(operation="health_check")
    with pytest.raises(ValidationFailed):
        merge_action(current, {"type": "file", "operation": "cleanup"})  # nothing carried over: no pattern


def test_merge_from_archive_to_cleanup_drops_the_destination():
    current = parse_action(file_action(operation="archive", destination="old"))
    merged = merge_action(current, {"operation": "cleanup"})
    assert merged == FileAction(operation="cleanup", pattern="logs/*.log")


def test_merge_from_cleanup_to_archive_gets_the_default_destination():
    merged = merge_action(parse_action(file_action(retain_days=30)), {"operation": "archive"})
    assert merged == FileAction(operation="archive", pattern="logs/*.log", retain_days=30, destination="archive")


def test_merge_to_an_unknown_type_is_not_supported():
    with pytest.raises(ActionNotSupported):
        merge_action(parse_action(publish()), {"type": "shell"})
