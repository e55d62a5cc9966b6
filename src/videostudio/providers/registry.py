"""Which provider serves a job: the model's first route whose engine is configured."""

from __future__ import annotations

from videostudio.catalog.spec import ModelSpec
from videostudio.providers.base import Provider


class ProviderRegistry:
    def __init__(self, providers: list[Provider]) -> None:
        self.providers = {provider.name: provider for provider in providers}

    def route(self, model: ModelSpec) -> tuple[Provider, str | None]:
        for route in model.routes:
            provider = self.providers.get(route.engine)
            if provider is not None:
                return provider, route.provider_model
        raise LookupError(f"no configured engine serves model {model.slug!r}")

    def get(self, name: str) -> Provider | None:
        return self.providers.get(name)
