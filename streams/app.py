"""The Faust app, configured from the environment. Agents, tables and views register on it."""

from __future__ import annotations

import faust

from schemas.settings import Settings
from streams.config import faust_settings

settings = Settings()
app = faust.App(settings.consumer_group, autodiscover=False, **faust_settings(settings))
