"""The public description of a model: everything a client needs to build a valid request and
compute its price without guessing. Served by ``/api/v1/models/video/`` and used by the docs page.
"""

from __future__ import annotations

from typing import Any

from videostudio.catalog.service import Catalog
from videostudio.catalog.spec import DurationRange, ModelSpec


def _rate_words(rates: dict[str, int], unit: str) -> str:
    per = " per second" if unit == "per_second" else ""
    if list(rates) == ["default"]:
        return f"{rates['default']} credits{per}"
    return ", ".join(f"{key}: {rate} credits{per}" for key, rate in rates.items())


def pricing_payload(model: ModelSpec, catalog: Catalog) -> dict[str, Any]:
    rule = model.pricing
    words = _rate_words(rule.rates, rule.unit)
    if rule.sound_rates:
        words += f"; with sound {_rate_words(rule.sound_rates, rule.unit)}"
    discount = catalog.discount_for(model)
    if discount:
        words += f"; -{discount} credits per job with prompt_directory_optin"
    quality = model.quality_modes[0] if model.quality_modes else None
    duration = model.default_duration
    rate = rule.rates.get(quality or "default", rule.rates.get("default", 0))
    example_price = rate * duration if rule.unit == "per_second" else rate
    return {
        "unit": rule.unit,
        "rates": dict(rule.rates),
        "sound_rates": dict(rule.sound_rates),
        "directory_discount_credits": discount,
        "base": rule.rates.get("default") if rule.unit == "per_job" else None,
        "description": words,
        "example": {
            "duration_seconds": duration,
            "quality_mode": quality,
            "sound": False,
            "credits": example_price,
        },
        "formula": (
            "rate[quality_mode or 'default'] (sound_rates when sound is on)"
            + (" x duration_seconds" if rule.unit == "per_second" else "")
            + " - directory discount, per job; x batch_size per request"
        ),
    }


def model_payload(model: ModelSpec, catalog: Catalog) -> dict[str, Any]:
    durations: dict[str, Any]
    if isinstance(model.durations, DurationRange):
        durations = {"type": "range", "min": model.durations.min, "max": model.durations.max}
    else:
        durations = {"type": "list", "values": list(model.durations)}
    input_kinds = ["text"] if model.prompt_required or model.prompt_max_length else []
    for spec in model.inputs.values():
        if spec.kind not in input_kinds:
            input_kinds.append(spec.kind)
    return {
        "slug": model.slug,
        "model_slug": model.slug,
        "name": model.name,
        "description": model.description,
        "engine": model.engine,
        "family": model.family,
        "modes": list(model.modes),
        "aspect_ratios": list(model.aspect_ratios),
        "default_aspect_ratio": model.aspect_ratios[0] if model.aspect_ratios else None,
        "aspect_ratio_excludes": list(model.aspect_ratio_excludes),
        "durations": durations,
        "allowed_durations": model.allowed_durations,
        "default_duration": model.default_duration,
        "duration_required": model.duration_required,
        "durations_by_quality": dict(model.durations_by_quality),
        "quality_modes": list(model.quality_modes),
        "quality_required": model.requires_quality,
        "prompt": {"required": model.prompt_required, "max_length": model.prompt_max_length},
        "inputs": input_kinds,
        "input_fields": {
            name: {"kind": spec.kind, "min": spec.min, "max": spec.max}
            for name, spec in model.inputs.items()
        },
        "mode_field": model.mode_field,
        "input_modes": {
            name: {
                "required": rule.required,
                "required_any": rule.required_any,
                "allowed": rule.allowed,
                "description": rule.description,
            }
            for name, rule in model.input_modes.items()
        },
        "character_orientations": {
            name: {"max_duration_seconds": seconds}
            for name, seconds in model.character_orientations.items()
        },
        "audio": model.audio,
        "features": {
            "sound": model.audio,
            "return_last_frame": model.features.return_last_frame,
            "web_search": model.features.web_search,
            "web_search_modes": list(model.features.web_search_modes),
            "directory_discount": catalog.discount_for(model) > 0,
        },
        "credits": pricing_payload(model, catalog),
        "engine_route": [route.engine for route in model.routes],
        "legacy_enabled": model.legacy_enabled,
        "legacy_video_model": (
            (model.legacy_aliases[0] if model.legacy_aliases else model.slug)
            if model.legacy_enabled
            else None
        ),
    }
