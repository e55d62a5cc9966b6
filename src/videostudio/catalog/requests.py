"""Request bodies of the generate endpoints, as the contract names their fields.

These shapes check types only, and strictly (``"8"`` is not an integer, ``"yes"`` not a boolean);
whether a value suits the chosen model is ``rules.validate``'s job, because that depends on the
catalog. Unknown fields are refused, so a typo such as ``duration_second`` is a clear 400 rather
than a silently ignored option.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

UrlList = list[str] | None


class GenerateRequest(BaseModel):
    """Body of ``POST /api/v1/video-studio/generate/``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model_slug: str = Field(description="Must match a registered Video Studio model slug")
    prompt: str | None = Field(default=None, description="Required for most models")
    aspect_ratio: str | None = Field(
        default=None, description="Must be one of the selected model's aspect ratios"
    )
    duration_seconds: int | None = Field(
        default=None, description="Must match an allowed duration for the model"
    )
    quality_mode: str | None = Field(
        default=None, description="Required when model defines quality modes"
    )
    input_image_urls: UrlList = Field(default=None, max_length=20)
    input_video_urls: UrlList = Field(default=None, max_length=20)
    seedance_mode: str | None = Field(
        default=None,
        description="Seedance 2: text_to_video, first_frame, first_last_frame, multimodal",
    )
    first_frame_url: str | None = None
    last_frame_url: str | None = None
    reference_image_urls: UrlList = Field(default=None, max_length=20)
    reference_video_urls: UrlList = Field(default=None, max_length=20)
    reference_audio_urls: UrlList = Field(default=None, max_length=20)
    start_frame_url: str | None = Field(default=None, description="Kling 3.0 start frame")
    end_frame_url: str | None = Field(default=None, description="Kling 3.0 end frame")
    character_orientation: str | None = Field(
        default=None, description="Motion Control: video (up to 30 s) or image (up to 10 s)"
    )
    sound: bool | None = Field(default=None, description="Only used on models with audio support")
    return_last_frame: bool | None = Field(default=None, description="Seedance 2 only")
    web_search: bool | None = Field(default=None, description="Seedance 2 text_to_video only")
    prompt_directory_optin: bool | None = Field(
        default=None, description="Directory discount applies only to selected model families"
    )
    batch_size: int = Field(default=1, ge=1, le=4, description="Jobs to create (1-4)")


class LegacyGenerateRequest(BaseModel):
    """Body of the legacy ``POST /api/v1/generate/video/`` (older field names)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # Video Studio field -> the legacy name a client of this endpoint sent.
    LEGACY_NAMES: ClassVar[dict[str, str]] = {
        "model_slug": "video_model",
        "input_image_urls": "source_image_urls",
        "input_video_urls": "video_urls",
    }

    video_model: str = Field(default="veo3_fast", description="veo3_fast, veo3 or a model slug")
    prompt: str | None = None
    source_image_urls: UrlList = Field(default=None, max_length=20)
    video_urls: UrlList = Field(default=None, max_length=20)
    aspect_ratio: str | None = None
    duration_seconds: int | None = None
    quality_mode: str | None = None
    character_orientation: str | None = None
    sound: bool | None = None
    prompt_directory_optin: bool | None = None

    def to_generate_request(self, model_slug: str) -> GenerateRequest:
        """The same request in Video Studio field names."""
        return GenerateRequest(
            model_slug=model_slug,
            prompt=self.prompt,
            aspect_ratio=self.aspect_ratio,
            duration_seconds=self.duration_seconds,
            quality_mode=self.quality_mode,
            input_image_urls=self.source_image_urls,
            input_video_urls=self.video_urls,
            character_orientation=self.character_orientation,
            sound=self.sound,
            prompt_directory_optin=self.prompt_directory_optin,
        )
