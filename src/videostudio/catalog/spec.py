"""The model catalog's schema: what an operator may write in the catalog TOML file.

The catalog is data, not code: every rule the generate endpoint enforces (aspect ratios, durations,
quality modes, input counts, prompt limits, mode-specific input sets, prices) is read from here, and
the same objects feed ``/api/v1/models/video/`` and the docs page, so validation, pricing and
documentation cannot drift apart. A bad file stops start-up with a message naming model and field.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

URL_LIST_FIELDS = (
    "input_image_urls",
    "input_video_urls",
    "reference_image_urls",
    "reference_video_urls",
    "reference_audio_urls",
)
URL_FIELDS = ("first_frame_url", "last_frame_url", "start_frame_url", "end_frame_url")
INPUT_FIELDS = URL_LIST_FIELDS + URL_FIELDS
MediaKind = Literal["image", "video", "audio"]
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_]{0,63}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputField(Strict):
    """Limits for one URL-bearing request field (a list field, or a single ``*_url`` field)."""

    kind: MediaKind
    min: int = Field(default=0, ge=0)
    max: int = Field(default=1, ge=0, le=20)

    @model_validator(mode="after")
    def _order(self) -> InputField:
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class DurationRange(Strict):
    min: int = Field(ge=1)
    max: int = Field(le=600)

    @model_validator(mode="after")
    def _order(self) -> DurationRange:
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class InputMode(Strict):
    """One value of a mode-selector field (e.g. ``seedance_mode``) and the inputs it takes."""

    required: list[str] = []
    required_any: list[str] = []
    allowed: list[str] = []
    description: str = ""


class PricingRule(Strict):
    """Credits for one job. ``rates`` is keyed by quality mode, or ``default`` when none apply.

    ``per_job``: the rate is the price. ``per_second``: rate x duration_seconds. When sound is on
    and ``sound_rates`` has the key, that rate replaces the plain one.
    """

    unit: Literal["per_job", "per_second"]
    rates: dict[str, int]
    sound_rates: dict[str, int] = {}

    @model_validator(mode="after")
    def _positive(self) -> PricingRule:
        for key, rate in {**self.rates, **self.sound_rates}.items():
            if rate < 0:
                raise ValueError(f"rate for {key!r} must not be negative")
        if not self.rates:
            raise ValueError("rates must not be empty")
        return self


class Features(Strict):
    return_last_frame: bool = False
    web_search: bool = False
    web_search_modes: list[str] = []


class Route(Strict):
    """Which engine or upstream provider serves the model (only ``sandbox`` exists so far)."""

    engine: str = "sandbox"
    provider_model: str | None = None


class ModelSpec(Strict):
    slug: str = Field(pattern=SLUG_PATTERN)
    name: str = Field(min_length=1)
    description: str = ""
    engine: str = Field(min_length=1, description="Display name of the model engine")
    family: str = Field(pattern=r"^[a-z0-9_]+$")
    modes: list[str] = Field(min_length=1)
    aspect_ratios: list[str] = []
    aspect_ratio_excludes: list[str] = []
    durations: list[int] | DurationRange
    duration_required: bool = False
    durations_by_quality: dict[str, list[int]] = {}
    quality_modes: list[str] = []
    quality_required: bool | None = None
    prompt_required: bool = True
    prompt_max_length: int = Field(default=5000, ge=1, le=100_000)
    audio: bool = False
    inputs: dict[str, InputField] = {}
    mode_field: str | None = None
    input_modes: dict[str, InputMode] = {}
    character_orientations: dict[str, int] = {}
    features: Features = Features()
    pricing: PricingRule
    routes: list[Route] = [Route()]
    legacy_aliases: list[str] = []
    legacy_enabled: bool = False

    @property
    def requires_quality(self) -> bool:
        if self.quality_required is None:
            return bool(self.quality_modes)
        return self.quality_required

    @property
    def allowed_durations(self) -> list[int]:
        if isinstance(self.durations, DurationRange):
            return list(range(self.durations.min, self.durations.max + 1))
        return list(self.durations)

    @property
    def default_duration(self) -> int:
        return self.allowed_durations[0]

    @property
    def max_duration(self) -> int:
        return max(self.allowed_durations)

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        for name in self.inputs:
            if name not in INPUT_FIELDS:
                raise ValueError(f"inputs: unknown request field {name!r}")
            if name in URL_FIELDS and self.inputs[name].max > 1:
                raise ValueError(f"inputs.{name}: a single-URL field has max 1")
        if isinstance(self.durations, list) and not self.durations:
            raise ValueError("durations must not be empty")
        for quality, allowed in self.durations_by_quality.items():
            if quality not in self.quality_modes:
                raise ValueError(f"durations_by_quality: {quality!r} is not a quality mode")
            if not set(allowed) <= set(self.allowed_durations):
                raise ValueError(f"durations_by_quality.{quality}: outside durations")
        keys = self.quality_modes or ["default"]
        for key in keys:
            if key not in self.pricing.rates and "default" not in self.pricing.rates:
                raise ValueError(f"pricing.rates: no rate for quality {key!r}")
        if self.mode_field:
            if not self.input_modes:
                raise ValueError("mode_field needs input_modes")
            for mode, rule in self.input_modes.items():
                for name in rule.required + rule.required_any + rule.allowed:
                    if name not in self.inputs:
                        raise ValueError(f"input_modes.{mode}: {name!r} is not in inputs")
        for name in self.aspect_ratio_excludes:
            if name not in self.inputs:
                raise ValueError(f"aspect_ratio_excludes: {name!r} is not in inputs")
        for orientation, seconds in self.character_orientations.items():
            if seconds < 1:
                raise ValueError(f"character_orientations.{orientation}: must be >= 1 s")
        if not self.routes:
            raise ValueError("routes must not be empty")
        return self


class DirectoryDiscount(Strict):
    credits: int = Field(default=10, ge=0)
    families: list[str] = []


class CatalogFile(Strict):
    version: int = 1
    directory_discount: DirectoryDiscount = DirectoryDiscount()
    models: list[ModelSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CatalogFile:
        seen: set[str] = set()
        for model in self.models:
            for name in [model.slug, *model.legacy_aliases]:
                if name in seen:
                    raise ValueError(f"slug or legacy alias {name!r} is defined twice")
                seen.add(name)
        return self
