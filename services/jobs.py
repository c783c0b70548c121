"""Recording the runs of scheduled jobs, and keeping one bad item from stopping the others.

A job reads and writes its items in batches (``Run.each_batch``): a batch of ``JOBS_BATCH_SIZE`` items
costs a fixed number of queries and one transaction, so a night with many rows due costs queries per
batch, not per row (issue 8). A batch that fails is rolled back whole and its items are done again one
by one, each in its own transaction (``Run.each``), so one bad item still does not stop the others.
"""

import datetime
import itertools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from services.models import JobRun

logger = logging.getLogger(__name__)

T = TypeVar("T")

BATCH_SIZE = 500  # items per batch unless settings.JOBS_BATCH_SIZE says otherwise


def batch_size() -> int:
    return max(1, int(getattr(settings, "JOBS_BATCH_SIZE", 0) or BATCH_SIZE))


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


@dataclass
class Run:
    """What a job did: counts by outcome and the items that failed (with why)."""

    job: str
    dry_run: bool = False
    counts: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    batches: int = 0

    def count(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] += n

    def each(self, items: Iterable, action: Callable[[object], str | None]) -> None:
        """Apply ``action`` to every item in its own transaction; a failure is recorded, not raised.

        ``action`` returns the outcome to count (or None to count nothing). In a dry run each
        item's transaction is rolled back after the action, so it records nothing.
        """
        for item in items:
            try:
                with transaction.atomic():
                    outcome = action(item)
                    if self.dry_run:
                        transaction.set_rollback(True)
            except Exception as error:  # one item's failure must not stop the others
                logger.exception("%s failed on %r", self.job, item)
                self.errors.append(f"{item}: {error.__class__.__name__}: {error}")
                self.count("failed")
            else:
                if outcome:
                    self.count(outcome)

    def each_batch(
        self,
        items: Iterable[T],
        *,
        batch: Callable[[list[T]], Iterable[str | None]],
        item: Callable[[T], str | None],
        size: int | None = None,
    ) -> None:
        """Apply ``batch`` to the items ``size`` at a time (``JOBS_BATCH_SIZE``), each batch in one transaction.

        ``batch`` returns the outcomes to count, counted only once its transaction commits. When it
        raises (one bad item, or a row another worker claimed meanwhile), the batch is rolled back
        whole and ``item`` is applied to each of its items in its own transaction (``each``): the
        others are still done and the bad one is reported. A dry run rolls each batch back.
        """
        for chunk in chunked(items, size or batch_size()):
            self.batches += 1
            try:
                with transaction.atomic():
                    outcomes = list(batch(chunk))
                    if self.dry_run:
                        transaction.set_rollback(True)
            except Exception as error:  # redone item by item: each failure is recorded there
                logger.warning(
                    "%s: a batch of %d items failed (%s: %s); doing them one by one",
                    self.job, len(chunk), error.__class__.__name__, error,
                )  # fmt: skip
                self.each(chunk, item)
            else:
                for outcome in outcomes:
                    if outcome:
                        self.count(outcome)

    def summary(self) -> str:
        parts = [f"{n} {outcome}" for outcome, n in sorted(self.counts.items())] or ["nothing to do"]
        prefix = "Dry run: " if self.dry_run else ""
        return f"{prefix}{self.job}: " + ", ".join(parts) + "."


@contextmanager
def recorded(job: str, *, for_date: datetime.datetime | datetime.date | None, dry_run: bool = False) -> Iterator[Run]:
    """Run a job inside a JobRun row that staff see in the admin (started, finished, counts, errors)."""
    if isinstance(for_date, datetime.date) and not isinstance(for_date, datetime.datetime):
        for_date = timezone.make_aware(datetime.datetime.combine(for_date, datetime.time()))
    record = JobRun.objects.create(job=job, for_date=for_date, dry_run=dry_run)
    run = Run(job=job, dry_run=dry_run)
    try:
        yield run
    except Exception as error:
        run.errors.append(f"the job stopped: {error.__class__.__name__}: {error}")
        raise
    finally:
        record.finished_at = timezone.now()
        record.counts = dict(run.counts)
        record.errors = run.errors[:200]
        record.save(update_fields=["finished_at", "counts", "errors"])
