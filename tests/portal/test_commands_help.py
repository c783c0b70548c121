"""Every management command of our apps explains itself: a purpose and an example someone can copy (issue 9)."""

import pytest
from django.core.management import ManagementUtility, get_commands, load_command_class

from portal.management.base import PortalCommand

OUR_APPS = {"accounts", "billing", "portal", "services", "support"}
OUR_COMMANDS = sorted(name for name, app in get_commands().items() if app in OUR_APPS)


def help_of(name: str, capsys) -> str:
    """What `python manage.py <name> --help` prints, run through Django's own command line."""
    with pytest.raises(SystemExit) as exit:
        ManagementUtility(["manage.py", name, "--help"]).execute()
    assert exit.value.code in (0, None)
    return capsys.readouterr().out


def test_the_commands_of_our_apps_are_found():
    assert {"portal_doctor", "issue_renewal_invoices", "load_demo", "import_zone", "sla_report"} <= set(OUR_COMMANDS)


@pytest.mark.parametrize("name", OUR_COMMANDS)
def test_each_command_has_a_purpose_and_an_example_of_itself(name):
    command = load_command_class(get_commands()[name], name)
    assert isinstance(command, PortalCommand)
    assert command.help.strip() and "\n" not in command.help.strip()
    assert command.example.startswith(f"python manage.py {name}")


@pytest.mark.parametrize("name", OUR_COMMANDS)
def test_help_runs_and_shows_the_example_on_one_line_after_the_options(name, capsys):
    command = load_command_class(get_commands()[name], name)

    out = help_of(name, capsys)

    assert out.startswith(f"usage: manage.py {name}")
    assert " ".join(command.help.split()) in " ".join(out.split())
    assert f"\nExample: {command.example}\n" in out
    assert out.index("options:") < out.index("Example:")


def test_a_command_that_may_show_a_progress_bar_can_be_told_not_to(capsys):
    assert "--no-progress" in help_of("generate_load_data", capsys)
    assert "--no-progress" not in help_of("export_zone", capsys)
