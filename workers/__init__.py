"""Dramatiq workers: the projector runtime, projections and calendar sync (issue 4 on)."""
