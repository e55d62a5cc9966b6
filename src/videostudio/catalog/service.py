"""Loading the catalog file and looking models up.

The catalog is read once at start and kept immutable in memory: lookups on the hot path are dict
reads. A broken file raises ``CatalogError`` whose message names the model slug and the field, which
``serve`` prints before refusing to start.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from videostudio.catalog.spec import CatalogFile, DirectoryDiscount, ModelSpec

BUILTIN_NAME = "builtin.toml"


class CatalogError(Exception):
    """The catalog file is unreadable or invalid."""


@dataclass(frozen=True)
class Catalog:
    models: dict[str, ModelSpec]
    directory_discount: DirectoryDiscount
    source: str
    legacy_aliases: dict[str, str] = field(default_factory=dict)

    def get(self, slug: str) -> ModelSpec | None:
        return self.models.get(slug)

    def legacy_model(self, name: str) -> ModelSpec | None:
        """The model a legacy ``video_model`` value names, if the legacy endpoint serves it."""
        model = self.models.get(self.legacy_aliases.get(name, name))
        return model if model is not None and model.legacy_enabled else None

    def discount_for(self, model: ModelSpec) -> int:
        """Credits taken off one job of ``model`` when the caller opts into the directory."""
        if model.family in self.directory_discount.families:
            return self.directory_discount.credits
        return 0


def _describe(error: ValidationError, raw: dict[str, object]) -> str:
    lines = []
    models = raw.get("models")
    for item in error.errors():
        loc = list(item["loc"])
        where = ".".join(str(part) for part in loc)
        if len(loc) >= 2 and loc[0] == "models" and isinstance(loc[1], int):
            slug = "?"
            if isinstance(models, list) and loc[1] < len(models):
                entry = models[loc[1]]
                if isinstance(entry, dict):
                    slug = str(entry.get("slug", "?"))
            field_path = ".".join(str(part) for part in loc[2:]) or "(model)"
            where = f"model {slug!r}, field {field_path}"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def parse_catalog(text: str, source: str) -> Catalog:
    """Parse and validate catalog TOML text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"Catalog {source} is not valid TOML: {exc}") from exc
    try:
        parsed = CatalogFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(f"Catalog {source} is invalid:\n{_describe(exc, raw)}") from exc
    aliases = {alias: m.slug for m in parsed.models for alias in m.legacy_aliases}
    return Catalog(
        models={m.slug: m for m in parsed.models},
        directory_discount=parsed.directory_discount,
        source=source,
        legacy_aliases=aliases,
    )


def load_catalog(path: Path | None = None) -> Catalog:
    """The operator's catalog file when given, else the built-in one shipped in the package."""
    if path is None:
        text = resources.files("videostudio.catalog").joinpath(BUILTIN_NAME).read_text("utf-8")
        return parse_catalog(text, f"(built-in {BUILTIN_NAME})")
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise CatalogError(f"Cannot read catalog file {path}: {exc.strerror}") from exc
    return parse_catalog(text, str(path))
