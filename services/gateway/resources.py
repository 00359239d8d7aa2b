"""Per-process resources (database engine, Redis client), created lazily after any fork."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis
from flask import Flask, current_app
from sqlalchemy import Engine

from shared.database import make_engine
from shared.settings import Settings, SettingsError


@dataclass
class Resources:
    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)
    _redis: redis.Redis | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings)
        return self._engine

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            if not self.settings.redis_url:
                raise SettingsError("REDIS_URL is not set")
            self._redis = redis.Redis.from_url(
                self.settings.redis_url, socket_connect_timeout=1, socket_timeout=1
            )
        return self._redis


def init_app(app: Flask) -> None:
    app.extensions["compound"] = Resources(app.config["COMPOUND_SETTINGS"])


def resources() -> Resources:
    res = current_app.extensions["compound"]
    assert isinstance(res, Resources)
    return res
