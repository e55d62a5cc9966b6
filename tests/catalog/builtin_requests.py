"""Shared test data: the built-in model slugs and one minimal valid request for each."""

from __future__ import annotations

from typing import Any

IMG = "https://example.com/a.png"
VID = "https://example.com/a.mp4"

# A minimal valid Video Studio request per built-in model (without model_slug).
VALID_REQUESTS: dict[str, dict[str, Any]] = {
    "veo31_lite": {"prompt": "a fox in the snow"},
    "veo31_fast": {"prompt": "a fox in the snow"},
    "veo31": {"prompt": "a fox in the snow"},
    "kling_3_0": {"prompt": "a fox", "quality_mode": "std", "duration_seconds": 5},
    "kling_3_0_motion_control": {
        "input_image_urls": [IMG],
        "input_video_urls": [VID],
        "quality_mode": "720p",
        "duration_seconds": 5,
    },
    "wan_2_6": {"prompt": "a fox", "quality_mode": "720p", "duration_seconds": 5},
    "wan_2_6_v2v": {
        "prompt": "make it anime",
        "input_video_urls": [VID],
        "quality_mode": "720p",
        "duration_seconds": 5,
    },
    "seedance_2": {"prompt": "a fox", "quality_mode": "480p", "duration_seconds": 4},
    "hailuo_2_3": {
        "prompt": "a fox",
        "input_image_urls": [IMG],
        "quality_mode": "768p",
        "duration_seconds": 6,
    },
    "grok_imagine_video": {"prompt": "a fox", "quality_mode": "480p", "duration_seconds": 6},
}
BUILTIN_SLUGS = list(VALID_REQUESTS)
