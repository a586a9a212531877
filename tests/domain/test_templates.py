"""Payload templates substitute known `${NAME}` variables and never evaluate anything."""

from __future__ import annotations

from domain.templates import render_template

VARIABLES = {"NOW": "2025-03-12T15:10:30Z", "JOB_ID": "job_001", "DEVICE_ID": "dev-7", "zone": "north"}


def test_known_variables_are_substituted():
    template = '{"timestamp": "${NOW}", "device_id": "${DEVICE_ID}", "job": "${JOB_ID}"}'
    assert render_template(template, VARIABLES) == \
        '{"timestamp": "2025-03-12T15:10:30Z", "device_id": "dev-7", "job": "job_001"}'


def test_run_parameters_are_substituted_by_their_own_name():
    assert render_template("zone=${zone}", VARIABLES) == "zone=north"


def test_unknown_variables_are_left_as_written():
    assert render_template("${MISSING} and ${NOW}", VARIABLES) == "${MISSING} and 2025-03-12T15:10:30Z"


def test_expressions_are_never_evaluated():
    for template in ["${__import__('os').system('id')}", "${NOW.upper()}", "${1+1}", "${JOB_ID!r}",
                     "{NOW}", "{0.__class__}", "%(NOW)s", "$NOW"]:
        assert render_template(template, VARIABLES) == template


def test_a_substituted_value_is_not_scanned_again():
    assert render_template("${A}", {"A": "${B}", "B": "secret"}) == "${B}"


def test_text_around_placeholders_is_kept_byte_for_byte():
    template = 'price $5 {"a": "$", "b": "${", "c": "}"} $${NOW}'
    assert render_template(template, VARIABLES) == 'price $5 {"a": "$", "b": "${", "c": "}"} $2025-03-12T15:10:30Z'


def test_empty_template_renders_empty():
    assert render_template("", VARIABLES) == ""
