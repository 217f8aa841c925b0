"""Two technicians take the last part at the same moment, on two connections: one gets it."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from plantops.maintenance import services
from plantops.maintenance.models import Part, PartUse
from tests.factories import make_user, make_work_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("attempt", range(5))
def test_two_technicians_taking_the_last_bearing_at_once_cannot_both_get_it(attempt):
    sam = make_user(role="supervisor", username="sam")
    technicians = [
        make_user(role="technician", username="tom"),
        make_user(role="technician", username="tina"),
    ]
    bearing = Part.objects.create(number="brg-6205", name="Bearing 6205", stock=1)
    works = [
        make_work_order(by=sam, title="Noisy bearing", assignee=technician, started=True)
        for technician in technicians
    ]

    start = threading.Barrier(2)
    outcomes: list[str] = []

    def take(work, technician) -> None:
        try:
            start.wait(timeout=10)
            services.part_use(work_order=work, part=bearing, quantity=1, user=technician)
            outcomes.append("took it")
        except ValidationError as refused:
            outcomes.append(" ".join(refused.messages))
        finally:
            connection.close()  # each thread has its own connection

    threads = [
        threading.Thread(target=take, args=(work, technician))
        for work, technician in zip(works, technicians, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == [
        "Only 0 pcs of brg-6205 in stock; 1 asked.",
        "took it",
    ]
    bearing.refresh_from_db()
    assert bearing.stock == 0
    assert PartUse.objects.count() == 1
