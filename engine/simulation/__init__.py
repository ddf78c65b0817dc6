"""The lifecycle simulator behind ``dsdt simulate``: seeded role behaviours on a virtual clock."""

from .drivers import DurableDriver, MemoryDriver
from .runner import SimulationResult, simulate

__all__ = ["DurableDriver", "MemoryDriver", "SimulationResult", "simulate"]
