"""Weekly releases of lever figures (issue 17, docs/privacy.md): computed once when a week
closes, kept as ``LeverReleasePublished`` events, read by managers and nothing else.

* :mod:`.inputs` reads a tenant-week's eligible populations from the levers read model;
* :mod:`.publish` computes due releases and appends them, idempotently;
* :mod:`.projection` keeps the released figures for reading; :mod:`.reads` serves them.
"""
