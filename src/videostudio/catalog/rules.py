"""Validating a generate request against its model, and pricing it.

``validate`` is pure: it takes the catalog entry and the typed request and returns the normalised
parameters (defaults filled in) plus the price, or raises ``APIError`` (400) with a message a person
can act on. Generate and quote both call it, so a quote is always exactly what generate charges.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from videostudio.catalog.requests import GenerateRequest
from videostudio.catalog.service import Catalog
from videostudio.catalog.spec import URL_FIELDS, URL_LIST_FIELDS, ModelSpec
from videostudio.errors import INVALID_DURATION, APIError, bad_request

HOST_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*$"
)
ASSET_RE = re.compile(r"^asset://[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$")
MAX_URL_LENGTH = 2048
IMAGE_INPUTS = (
    "input_image_urls",
    "start_frame_url",
    "end_frame_url",
    "first_frame_url",
    "last_frame_url",
)


@dataclass(frozen=True)
class Quote:
    """The price of one validated request."""

    unit_price: int
    discount: int
    price_per_job: int
    batch_size: int

    @property
    def total(self) -> int:
        return self.price_per_job * self.batch_size


@dataclass(frozen=True)
class ValidatedRequest:
    model: ModelSpec
    mode: str
    params: dict[str, Any]
    quote: Quote


def _choice_error(message: str, field: str, allowed: list[Any], code: str) -> APIError:
    error = bad_request(message, field=field, code=code)
    error.extra["allowed"] = allowed
    return error


def _present_inputs(request: GenerateRequest) -> dict[str, Any]:
    present: dict[str, Any] = {}
    for name in URL_LIST_FIELDS:
        value = getattr(request, name)
        if value:
            present[name] = list(value)
    for name in URL_FIELDS:
        value = getattr(request, name)
        if value is not None and value != "":
            present[name] = value
    return present


def input_refs(inputs: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(field, label, reference)`` for every input, in request order; the label names list
    items as the errors do (``input_image_urls[0]``)."""
    refs: list[tuple[str, str, str]] = []
    for name, value in inputs.items():
        if isinstance(value, list):
            refs.extend((name, f"{name}[{index}]", item) for index, item in enumerate(value))
        else:
            refs.append((name, name, value))
    return refs


def _is_https_url(value: str) -> bool:
    if not value.startswith("https://") or any(ch.isspace() or ord(ch) < 32 for ch in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    if parts.username is not None or parts.password is not None:
        return False  # credentials in URLs leak into logs and provider requests
    host = parts.hostname or ""
    if host.startswith("[") or ":" in host:  # an IPv6 literal
        try:
            ipaddress.IPv6Address(host.strip("[]"))
        except ValueError:
            return False
        return True
    return bool(HOST_RE.match(host))


def _check_url(value: str, field: str) -> None:
    if len(value) > MAX_URL_LENGTH or not (_is_https_url(value) or ASSET_RE.match(value)):
        raise bad_request(
            f"{field} must be an https:// URL or an asset:// ID", field=field, code="invalid_url"
        )


def _entries(count: int) -> str:
    return "entry" if count == 1 else "entries"


def _check_inputs(model: ModelSpec, inputs: dict[str, Any]) -> None:
    for name, value in inputs.items():
        limits = model.inputs.get(name)
        if limits is None:
            raise bad_request(
                f"{name} is not supported by this model", field=name, code="unsupported_field"
            )
        values = value if isinstance(value, list) else [value]
        for index, item in enumerate(values):
            _check_url(item, f"{name}[{index}]" if isinstance(value, list) else name)
        if len(values) > limits.max:
            raise bad_request(
                f"{model.slug} accepts at most {limits.max} {name} {_entries(limits.max)}",
                field=name,
                code="too_many_inputs",
            )
    for name, limits in model.inputs.items():
        count = len(inputs[name]) if isinstance(inputs.get(name), list) else int(name in inputs)
        if count < limits.min:
            amount = "one" if limits.min == 1 else f"at least {limits.min}"
            raise bad_request(
                f"{model.slug} requires {amount} {name} {_entries(limits.min)}",
                field=name,
                code="missing_input",
            )


def _input_mode(model: ModelSpec, request: GenerateRequest, inputs: dict[str, Any]) -> str:
    field = model.mode_field
    assert field is not None
    value = getattr(request, field, None)
    if value is None:
        value = next(iter(model.input_modes))
    rule = model.input_modes.get(value)
    if rule is None:
        names = ", ".join(model.input_modes)
        raise _choice_error(
            f"Invalid {field}: use one of {names}", field, list(model.input_modes), "invalid_mode"
        )
    for name in inputs:
        if name not in rule.allowed:
            raise bad_request(
                f"{name} cannot be used with {field} {value}",
                field=name,
                code="input_mode_mismatch",
            )
    for name in rule.required:
        if name not in inputs:
            raise bad_request(f"{field} {value} requires {name}", field=name, code="missing_input")
    if rule.required_any and not any(name in inputs for name in rule.required_any):
        names = ", ".join(rule.required_any)
        raise bad_request(
            f"{field} {value} requires at least one of {names}", field=field, code="missing_input"
        )
    return value


def _mode(model: ModelSpec, request: GenerateRequest, inputs: dict[str, Any]) -> str:
    if model.mode_field:
        return _input_mode(model, request, inputs)
    if len(model.modes) == 1:
        return model.modes[0]
    if any(name in inputs for name in IMAGE_INPUTS) and "image_to_video" in model.modes:
        return "image_to_video"
    return model.modes[0]


def _prompt(model: ModelSpec, prompt: str | None) -> str:
    text = (prompt or "").strip()
    if not text and model.prompt_required:
        raise bad_request(
            "prompt is required for this model", field="prompt", code="missing_prompt"
        )
    if len(text) > model.prompt_max_length:
        raise bad_request(
            f"Prompt exceeds {model.prompt_max_length} characters for this model",
            field="prompt",
            code="prompt_too_long",
        )
    return text


def _aspect_ratio(model: ModelSpec, value: str | None, inputs: dict[str, Any]) -> str | None:
    if value is None:
        if any(name in inputs for name in model.aspect_ratio_excludes):
            return None  # the frames set the shape (Kling start/end frames)
        return model.aspect_ratios[0] if model.aspect_ratios else None
    if not model.aspect_ratios:
        raise bad_request(
            "aspect_ratio is not supported by this model (the output follows the input)",
            field="aspect_ratio",
            code="unsupported_field",
        )
    if value not in model.aspect_ratios:
        raise _choice_error(
            "Invalid aspect ratio for this model",
            "aspect_ratio",
            model.aspect_ratios,
            "invalid_aspect_ratio",
        )
    blocking = [name for name in model.aspect_ratio_excludes if name in inputs]
    if blocking:
        raise bad_request(
            f"aspect_ratio is not allowed together with {' or '.join(model.aspect_ratio_excludes)}",
            field="aspect_ratio",
            code="aspect_ratio_conflict",
        )
    return value


def _quality(model: ModelSpec, value: str | None) -> str | None:
    if not model.quality_modes:
        if value is not None:
            raise bad_request(
                "quality_mode is not supported by this model",
                field="quality_mode",
                code="unsupported_field",
            )
        return None
    if value is None:
        if model.requires_quality:
            raise _choice_error(
                "quality_mode is required for this model",
                "quality_mode",
                model.quality_modes,
                "missing_quality_mode",
            )
        return model.quality_modes[0]
    if value not in model.quality_modes:
        raise _choice_error(
            "Invalid quality mode for this model",
            "quality_mode",
            model.quality_modes,
            "invalid_quality_mode",
        )
    return value


def allowed_durations(model: ModelSpec, quality: str | None, orientation: str | None) -> list[int]:
    """The durations ``model`` accepts with this quality mode and character orientation."""
    allowed = model.durations_by_quality.get(quality or "", model.allowed_durations)
    if orientation in model.character_orientations:
        limit = model.character_orientations[orientation]
        allowed = [seconds for seconds in allowed if seconds <= limit]
    return allowed


def _duration(
    model: ModelSpec, value: int | None, quality: str | None, orientation: str | None
) -> int:
    allowed = allowed_durations(model, quality, orientation)
    if value is None:
        if model.duration_required:
            raise _choice_error(
                "duration_seconds is required for this model",
                "duration_seconds",
                allowed,
                "missing_duration",
            )
        return allowed[0]
    if value not in allowed:
        raise _choice_error(INVALID_DURATION, "duration_seconds", allowed, "invalid_duration")
    return value


def _orientation(model: ModelSpec, value: str | None) -> str | None:
    if not model.character_orientations:
        if value is not None:
            raise bad_request(
                "character_orientation is not supported by this model",
                field="character_orientation",
                code="unsupported_field",
            )
        return None
    if value is None:
        return next(iter(model.character_orientations))
    if value not in model.character_orientations:
        names = list(model.character_orientations)
        raise _choice_error(
            f"Invalid character_orientation: use {' or '.join(names)}",
            "character_orientation",
            names,
            "invalid_orientation",
        )
    return value


def _flags(model: ModelSpec, request: GenerateRequest, mode: str) -> tuple[bool, bool]:
    if request.seedance_mode is not None and model.mode_field != "seedance_mode":
        raise bad_request(
            "seedance_mode is not supported by this model",
            field="seedance_mode",
            code="unsupported_field",
        )
    if request.return_last_frame and not model.features.return_last_frame:
        raise bad_request(
            "return_last_frame is not supported by this model",
            field="return_last_frame",
            code="unsupported_field",
        )
    if request.web_search:
        if not model.features.web_search:
            raise bad_request(
                "web_search is not supported by this model",
                field="web_search",
                code="unsupported_field",
            )
        modes = model.features.web_search_modes
        if modes and mode not in modes:
            raise bad_request(
                f"web_search is only available in {model.mode_field or 'mode'} "
                f"{' or '.join(modes)}",
                field="web_search",
                code="unsupported_field",
            )
    return bool(request.return_last_frame), bool(request.web_search)


def price(model: ModelSpec, catalog: Catalog, params: dict[str, Any], batch_size: int) -> Quote:
    """Credits for ``batch_size`` jobs of ``model`` with validated ``params``."""
    rule = model.pricing
    key = params.get("quality_mode") or "default"
    rates = rule.sound_rates if params.get("sound") and key in rule.sound_rates else rule.rates
    rate = rates.get(key, rates.get("default", 0))
    gross = rate * int(params["duration_seconds"]) if rule.unit == "per_second" else rate
    discount = (
        min(gross, catalog.discount_for(model)) if params.get("prompt_directory_optin") else 0
    )
    return Quote(
        unit_price=gross, discount=discount, price_per_job=gross - discount, batch_size=batch_size
    )


def validate(catalog: Catalog, model: ModelSpec, request: GenerateRequest) -> ValidatedRequest:
    """Check ``request`` against ``model``; return normalised parameters and the price."""
    prompt = _prompt(model, request.prompt)
    inputs = _present_inputs(request)
    _check_inputs(model, inputs)
    mode = _mode(model, request, inputs)
    return_last_frame, web_search = _flags(model, request, mode)
    aspect_ratio = _aspect_ratio(model, request.aspect_ratio, inputs)
    quality = _quality(model, request.quality_mode)
    orientation = _orientation(model, request.character_orientation)
    duration = _duration(model, request.duration_seconds, quality, orientation)
    params: dict[str, Any] = {
        "prompt": prompt,
        "aspect_ratio": aspect_ratio,
        "duration_seconds": duration,
        "quality_mode": quality,
        "sound": bool(request.sound) and model.audio,
        "prompt_directory_optin": bool(request.prompt_directory_optin),
        "inputs": inputs,
    }
    if model.mode_field:
        params[model.mode_field] = mode
    if orientation is not None:
        params["character_orientation"] = orientation
    if model.features.return_last_frame:
        params["return_last_frame"] = return_last_frame
    if model.features.web_search:
        params["web_search"] = web_search
    quote = price(model, catalog, params, request.batch_size)
    return ValidatedRequest(model=model, mode=mode, params=params, quote=quote)
