"""The noise of releases, drawn with OpenDP's Laplace mechanism (``opendp`` 0.16).

Each figure is released once, as ``mechanism(exact)``; the noisy value is what the release
event stores (never the noise itself, which would give the exact figure back by
subtraction). OpenDP samples the noise with a cryptographically secure generator and is
checked here to spend no more than the figure's share of the budget.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import opendp.prelude as dp

dp.enable_features("contrib")


@lru_cache(maxsize=4096)
def _mechanism(scale: float) -> Any:
    """OpenDP's Laplace mechanism on one float, of ``scale``."""
    return dp.m.make_laplace(
        dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale=scale
    )


def privacy_loss(scale: float, sensitivity: float) -> float:
    """The epsilon OpenDP accounts for one release of a figure.

    Parameters:
        scale: the Laplace scale.
        sensitivity: the most one person moves the figure.

    Returns:
        The privacy loss (epsilon) of releasing it once.
    """
    return float(_mechanism(scale).map(sensitivity))


class OpenDPNoise:
    """Laplace noise from OpenDP (:class:`shared.domain.releases.Noise`)."""

    def laplace(self, value: float, scale: float) -> float:
        """``value`` plus Laplace noise of ``scale``, sampled by OpenDP.

        Parameters:
            value: the exact figure.
            scale: the noise scale (its sensitivity over its budget share).

        Returns:
            The noisy figure.
        """
        return float(_mechanism(round(scale, 9))(float(value)))

    def margin(self, scale: float, alpha: float) -> float:
        """The half-width of the (1 - alpha) interval of the noise.

        Parameters:
            scale: the noise scale.
            alpha: the share of draws outside the interval.

        Returns:
            t with P(|noise| > t) = alpha.
        """
        return float(dp.laplacian_scale_to_accuracy(scale, alpha))
