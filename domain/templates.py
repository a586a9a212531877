"""Payload templates: `${NAME}` substitution that never evaluates anything."""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def render_template(template: str, variables: Mapping[str, str]) -> str:
    """Replace each `${NAME}` found in `variables`; leave unknown ones and any other text as written.

    One pass only: a substituted value is never scanned again, so a run parameter holding
    `${JOB_ID}` arrives literally.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            return match.group(0)
        return str(variables[name])

    return _PLACEHOLDER.sub(substitute, template)
