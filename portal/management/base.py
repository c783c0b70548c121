"""What every management command of the portal shares: an example in --help, and a progress bar.

``help`` says what the command is for; ``example`` is one command line, shown under the options as
"Example: python manage.py …" exactly as written, so it can be copied. The bar goes to stderr and only
to a terminal: never in tests, cron mail or a pipe, nor with --no-progress or --verbosity 0.
"""

import argparse
import shutil
import textwrap
from collections.abc import Iterable

from django.core.management.base import BaseCommand, DjangoHelpFormatter
from tqdm import tqdm


class HelpFormatter(argparse.RawDescriptionHelpFormatter, DjangoHelpFormatter):
    """Django's option order, with the description and the example printed as given (wrapped by us)."""


def _wrapped(text: str) -> str:
    width = max(min(shutil.get_terminal_size().columns - 2, 100), 40)
    return "\n".join(textwrap.fill(paragraph, width) for paragraph in text.splitlines())


class PortalCommand(BaseCommand):
    example: str = ""  # "python manage.py <name> …": required of every command (tests/portal/test_commands_help.py)
    shows_progress: bool = False  # True: the command takes --no-progress and may show a bar

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        if self.example:
            kwargs.setdefault("epilog", f"Example: {self.example}")
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.description = _wrapped(self.help) if self.help else None
        if self.shows_progress:
            parser.add_argument(
                "--no-progress", action="store_true", help="Never show the progress bar (it shows only on a terminal)."
            )
        return parser

    def execute(self, *args, **options):
        self._progress_wanted = (
            self.shows_progress and not options.get("no_progress") and options.get("verbosity", 1) > 0
        )
        return super().execute(*args, **options)

    def progress(self, iterable: Iterable | None = None, *, total: int | None = None, desc: str = "", unit: str = "it"):
        """A tqdm bar on this command's stderr, disabled (and silent) unless stderr is a terminal."""
        stream = getattr(self.stderr, "_out", self.stderr)  # Django's OutputWrapper would end every \r with \n
        enabled = getattr(self, "_progress_wanted", False) and self.stderr.isatty()
        return tqdm(
            iterable, total=total, desc=desc, unit=unit, file=stream, disable=not enabled, leave=False,
            dynamic_ncols=True,
        )  # fmt: skip
