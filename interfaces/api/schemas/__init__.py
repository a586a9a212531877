"""The wire shapes of the API as msgspec structs: requests (decoded at the edge), answers and
errors (documented in the OpenAPI document; the page and the live feed are to share them)."""

from interfaces.api.schemas.requests import (
    CreateJobRequest,
    RunJobRequest,
    ToggleJobRequest,
    UpdateJobRequest,
    decode_body,
)

__all__ = ["CreateJobRequest", "RunJobRequest", "ToggleJobRequest", "UpdateJobRequest", "decode_body"]
