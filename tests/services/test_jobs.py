"""Job runs are recorded for staff, and one failing item does not stop the others (issue 7)."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Customer
from services.jobs import recorded
from services.models import JobRun


@pytest.mark.django_db
def test_a_run_records_its_counts_errors_and_times_and_goes_on_after_a_failure():
    def action(name: str) -> str:
        if name == "bad":
            raise ValueError("cannot do this one")
        Customer.objects.create(name=name)
        return "done"

    with recorded("demo_job", for_date=datetime.date(2026, 11, 27)) as run:
        run.each(["a", "bad", "b"], action)
    record = JobRun.objects.get()
    assert record.counts == {"done": 2, "failed": 1}
    assert record.errors == ["bad: ValueError: cannot do this one"]
    assert record.finished_at is not None
    assert timezone.localdate(record.for_date) == datetime.date(2026, 11, 27)  # midnight in Brussels
    assert set(Customer.objects.values_list("name", flat=True)) == {"a", "b"}
    assert run.summary() == "demo_job: 2 done, 1 failed."


@pytest.mark.django_db
def test_a_dry_run_counts_what_it_would_do_and_changes_nothing():
    with recorded("demo_job", for_date=None, dry_run=True) as run:
        run.each(["a"], lambda name: Customer.objects.create(name=name) and "created")
    assert not Customer.objects.exists()
    assert run.counts == {"created": 1}
    assert JobRun.objects.get().dry_run is True


@pytest.mark.django_db
def test_a_job_command_with_a_failed_item_exits_non_zero_after_doing_the_others(monkeypatch):
    from django.core.management import CommandError, call_command

    from services import renewals
    from services.jobs import Run

    def job(**kwargs):
        run = Run(job="issue_renewal_invoices")
        run.count("invoiced", 2)
        run.errors.append("www.acme.example: ValueError: no price")
        return run

    monkeypatch.setattr(renewals, "issue_renewal_invoices", job)
    with pytest.raises(CommandError, match="1 item"):
        call_command("issue_renewal_invoices", "--date", "2026-11-27")
