"""Infrastructure: embedded servers, migrations, the process supervisor behind ``make run``."""
