"""The response envelope of the contract: success, data, message; or the error envelope."""

from __future__ import annotations

from typing import Any


def ok(data: Any, message: str) -> dict[str, Any]:
    return {"data": data, "success": True, "message": message}


def failure(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"success": False, "message": message, "error": {"code": code, "details": details}}
