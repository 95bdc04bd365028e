"""A local emulator of the YouCam (Perfect Corp) AI Video Face Swap API, for tests and the local stack.

    with Emulator(EmulatorConfig(webhook_urls=[...])) as emulator:
        emulator.base_url, emulator.config.api_key, emulator.set_faults(rate_429=0.5), emulator.stats()
        emulator.advance_clock(601)  # expiries without sleeping
"""

from local.emulator.clock import AdjustableClock, Clock
from local.emulator.config import DEFAULT_WEBHOOK_SECRET, EmulatorConfig, Limits
from local.emulator.emulator import Emulator
from local.emulator.faults import Faults

__all__ = ["DEFAULT_WEBHOOK_SECRET", "AdjustableClock", "Clock", "Emulator", "EmulatorConfig", "Faults", "Limits"]
