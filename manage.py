#!/usr/bin/env python
import os
import sys

# Writing or checking migrations reads no secret and serves nothing: let it run on a bare
# checkout (CI hooks, editors) without DJANGO_DEBUG. Every other command keeps the production
# refusal of portal/settings.py (no secret key or allowed hosts with DEBUG off: no start).
DEVELOPMENT_ONLY_COMMANDS = {"makemigrations"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if len(sys.argv) > 1 and sys.argv[1] in DEVELOPMENT_ONLY_COMMANDS:
        os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
