"""``python -m shared.i18n update AREA PATH...`` | ``python -m shared.i18n check [PATH...]``
| ``python -m shared.i18n fill LOCALE AREA FILE.json`` (``{"English": "translation"}``; a
plural message: ``{"%(num)d day": ["%(num)d Tag", "%(num)d Tage"]}``); see
:mod:`shared.i18n.extract`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shared.i18n.extract import SOURCES, check, fill, update


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "update":
        for locale, count in update(argv[1], argv[2:] or SOURCES).items():
            print(f"{locale}/{argv[1]}.po: {count} new messages to translate")
        return 0
    if len(argv) == 4 and argv[0] == "fill":
        count = fill(argv[1], argv[2], json.loads(Path(argv[3]).read_text(encoding="utf-8")))
        print(f"{argv[1]}/{argv[2]}.po: {count} messages translated")
        return 0
    if argv and argv[0] == "check":
        problems = check(argv[1:] or SOURCES)
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problems")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
