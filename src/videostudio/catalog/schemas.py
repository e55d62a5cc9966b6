"""Documented shapes of the model-discovery responses (OpenAPI). ``presenter.model_payload``
builds the same objects as plain dicts; a test validates real responses against these models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class DurationsOut(BaseModel):
    type: Literal["list", "range"]
    values: list[int] | None = None
    min: int | None = None
    max: int | None = None


class PromptRulesOut(BaseModel):
    required: bool
    max_length: int


class InputFieldOut(BaseModel):
    kind: Literal["image", "video", "audio"]
    min: int
    max: int


class InputModeOut(BaseModel):
    required: list[str]
    required_any: list[str]
    allowed: list[str]
    description: str


class OrientationOut(BaseModel):
    max_duration_seconds: int


class FeaturesOut(BaseModel):
    sound: bool
    return_last_frame: bool
    web_search: bool
    web_search_modes: list[str]
    directory_discount: bool


class PriceExampleOut(BaseModel):
    duration_seconds: int
    quality_mode: str | None
    sound: bool
    credits: int


class CreditsOut(BaseModel):
    unit: Literal["per_job", "per_second"]
    rates: dict[str, int]
    sound_rates: dict[str, int]
    directory_discount_credits: int
    base: int | None
    description: str
    example: PriceExampleOut
    formula: str


class ModelOut(BaseModel):
    slug: str
    model_slug: str
    name: str
    description: str
    engine: str
    family: str
    modes: list[str]
    aspect_ratios: list[str]
    default_aspect_ratio: str | None
    aspect_ratio_excludes: list[str]
    durations: DurationsOut
    allowed_durations: list[int]
    default_duration: int
    duration_required: bool
    durations_by_quality: dict[str, list[int]]
    quality_modes: list[str]
    quality_required: bool
    prompt: PromptRulesOut
    inputs: list[str]
    input_fields: dict[str, InputFieldOut]
    mode_field: str | None
    input_modes: dict[str, InputModeOut]
    character_orientations: dict[str, OrientationOut]
    audio: bool
    features: FeaturesOut
    credits: CreditsOut
    engine_route: list[str]
    legacy_enabled: bool
    legacy_video_model: str | None


class ModelListResponse(BaseModel):
    success: Literal[True] = True
    count: int
    models: list[ModelOut]


class ModelResponse(BaseModel):
    success: Literal[True] = True
    model: ModelOut
