"""What commands print for ops: a bar on a terminal only, a one-line summary, non-zero on failure (issue 9)."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from services import dns, renewals
from services.jobs import Run
from services.models import Kind
from tests.factories import PlanFactory, ServiceFactory


class Terminal(io.StringIO):
    """A stderr that says it is a terminal, as an operator's is."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def fake_jobs(monkeypatch):
    """renewals_status over two jobs, the second of which fails on an item (as a real dry run can)."""

    def ok(dry_run):
        run = Run(job="extend_prepaid_periods", dry_run=dry_run)
        run.count("extended", 2)
        return run

    def failing(dry_run):
        run = Run(job="expire_unpaid", dry_run=dry_run)
        run.errors.append("acme.be: ValueError: no plan")
        run.count("failed")
        return run

    def jobs_for(*, today, now):
        return [("extend_prepaid_periods", ok), ("expire_unpaid", failing)]

    monkeypatch.setattr(renewals, "jobs_for", jobs_for)


def test_the_progress_bar_is_drawn_on_a_terminal(fake_jobs):
    stderr = Terminal()
    with pytest.raises(CommandError):
        call_command("renewals_status", "--date", "2026-11-27", stdout=io.StringIO(), stderr=stderr)
    drawn = stderr.getvalue()  # tqdm redraws at most every 0.1 s: the states in between may be skipped
    assert drawn.startswith("\rjobs:   0%|") and "/2 [" in drawn and "expire_unpaid" in drawn


def test_no_progress_bar_without_a_terminal_with_no_progress_or_at_verbosity_zero(fake_jobs):
    for options, stderr in [({}, io.StringIO()), ({"no_progress": True}, Terminal()), ({"verbosity": 0}, Terminal())]:
        with pytest.raises(CommandError):
            call_command("renewals_status", "--date", "2026-11-27", stdout=io.StringIO(), stderr=stderr, **options)
        assert stderr.getvalue() == "", options


def test_renewals_status_exits_non_zero_naming_the_jobs_that_would_fail(fake_jobs):
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 job\(s\) would fail on some items: expire_unpaid\.") as error:
        call_command("renewals_status", "--date", "2026-11-27", stdout=out, stderr=io.StringIO())
    assert error.value.returncode == 1
    assert out.getvalue().splitlines() == [
        "What the jobs would do on 2026-11-27:",
        "  Dry run: extend_prepaid_periods: 2 extended.",
        "  Dry run: expire_unpaid: 1 failed.",
        "    ! acme.be: ValueError: no plan",
    ]


@pytest.mark.django_db
def test_generating_load_data_on_a_terminal_draws_a_bar_instead_of_a_line_per_step(settings):
    settings.DEBUG = True
    out, stderr = io.StringIO(), Terminal()
    call_command("generate_load_data", "--customers", "2", "--seed", "7", stdout=out, stderr=stderr)
    assert stderr.getvalue().startswith("\rload data:   0%|") and "/1 [" in stderr.getvalue()
    assert out.getvalue().startswith("Load data ready in ")  # the summary only: the steps were on the bar


@pytest.mark.django_db
def test_generating_load_data_without_a_terminal_prints_a_line_per_step_then_the_summary(settings):
    settings.DEBUG = True
    out, stderr = io.StringIO(), io.StringIO()
    call_command("generate_load_data", "--customers", "2", "--seed", "8", stdout=out, stderr=stderr)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("  2/2 customers (") and lines[-1].startswith("Load data ready in ")
    assert stderr.getvalue() == ""


@pytest.mark.django_db
def test_export_zone_keeps_stdout_for_the_zone_and_says_how_many_records_on_stderr(customer):
    service = ServiceFactory(customer=customer, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN))
    zone = dns.create_zone(service=service, name="acme.be", today=datetime.date(2026, 11, 27))
    dns.add_record(
        zone=zone, name="www", type="A", ttl=3600, value="192.0.2.10", expected_serial=zone.serial, by=None,
        today=datetime.date(2026, 11, 27),
    )  # fmt: skip
    out, err = io.StringIO(), io.StringIO()

    call_command("export_zone", "acme.be", stdout=out, stderr=err)

    assert out.getvalue() == dns.zone_text(zone)
    assert err.getvalue() == "acme.be: 4 records exported.\n"  # SOA, our two NS, www
    quiet = io.StringIO()
    call_command("export_zone", "acme.be", stdout=io.StringIO(), stderr=quiet, verbosity=0)
    assert quiet.getvalue() == ""


@pytest.mark.django_db
def test_sla_report_ends_with_the_month_s_totals_on_stderr():
    out, err = io.StringIO(), io.StringIO()
    call_command("sla_report", "--month", "2026-11", "--csv", stdout=out, stderr=err)
    assert out.getvalue().startswith("kind,priority,tickets")
    assert err.getvalue() == "2026-11: 0 tickets, 0 responded in time, 0 breached.\n"
