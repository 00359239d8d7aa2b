"""The model as pure functions: tactics, weeks, scoring, levers, privacy, nudges. No I/O."""
