"""Gap-free yearly sequences (ticket numbers, invoice numbers).

The counter row of the year is incremented in the database and stays locked until the caller's
transaction ends, so two transactions never get the same number, and a rolled-back one gives
its number back (no gap).
"""

from django.db import models
from django.db.models import F


def next_in_year(counter_model: type[models.Model], year: int) -> int:
    """Call inside a transaction: the next number of ``year`` for a model with ``year`` and ``last``."""
    counter_model.objects.get_or_create(year=year)
    counter_model.objects.filter(year=year).update(last=F("last") + 1)
    return counter_model.objects.select_for_update().get(year=year).last


def reserve_in_year(counter_model: type[models.Model], year: int, count: int) -> range:
    """``next_in_year`` for ``count`` numbers at once, consecutive: gap-free when the caller's
    transaction commits or rolls back everything it numbers."""
    counter_model.objects.get_or_create(year=year)
    counter_model.objects.filter(year=year).update(last=F("last") + count)
    last = counter_model.objects.select_for_update().get(year=year).last
    return range(last - count + 1, last + 1)
