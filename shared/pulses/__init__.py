"""Pulses no one can link: period keys, markers, waiting answers and shuffled batches."""

from shared.pulses.vault import PULSE_CONTEXT, PeriodClosed, PeriodKey, PulseVault

__all__ = ["PULSE_CONTEXT", "PeriodClosed", "PeriodKey", "PulseVault"]
