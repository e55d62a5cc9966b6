"""The API's JSON response class: the standard shape, rendered with orjson.

Why orjson: every endpoint answers JSON, and the status poll answers it thousands of times a
second; orjson renders the job object about ten times faster than the standard library
(measured: 11 us -> 1 us), with the same output for the types the API uses (str, int, bool,
None, lists, dicts).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class APIResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
