"""The lifecycle simulator behind ``dsdt simulate``: seeded role behaviours on a virtual clock."""

from .drivers import DurableDriver, MemoryDriver
from .people import campaign_people, create_accounts
from .runner import SimulationResult, simulate

__all__ = ["DurableDriver", "MemoryDriver", "SimulationResult", "campaign_people", "create_accounts", "simulate"]
