"""What every part of the bot needs at run time, built once from the config:
the configuration, the database and the clock. Passed explicitly —
scheduled jobs never reach for Flask's current_app."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Config
from storage.db import make_engine, session_factory
from storage.leases import set_local_host
from storage.points import configure as configure_points
from storage.radar import configure as configure_radar


@dataclass
class Runtime:
    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock

    @classmethod
    def from_config(cls, config: Config, clock: Clock | None = None) -> "Runtime":
        """`clock`: a test's frozen clock; else the system's, in the configured zone."""
        set_local_host(config["server.host_id"])  # names this host in leases and delivery claims
        configure_points(**{k.split(".", 1)[1]: v for k, v in config.values.items() if k.startswith("points.")})
        configure_radar(**{k.split(".", 1)[1]: v for k, v in config.values.items() if k.startswith("radar.")})
        engine = make_engine(config["database.url"])
        return cls(config, engine, session_factory(engine), clock or Clock(ZoneInfo(config["scheduler.timezone"])))
