"""Demo Gebührensatzung: tariffs of the demo halls, surcharges, reductions, free groups."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from buchung.fees.models import AdjustmentCondition, FeeAdjustment, FeeGroup, FeeSchedule, Tariff
from buchung.models import Resource
from lotse.extensions import db

# (resource name, group, unit, cents)
DEMO_TARIFFS = [
    ("Dreifachhalle Schulzentrum", "club", "hour", 1750),
    ("Dreifachhalle Schulzentrum", "private", "hour", 3500),
    ("Dreifachhalle Schulzentrum", "commercial", "hour", 6000),
    ("Drittel A", "club", "hour", 700),
    ("Drittel B", "club", "hour", 700),
    ("Drittel C", "club", "hour", 700),
    ("Gymnastikhalle", "club", "hour", 800),
    ("Gymnastikhalle", "private", "hour", 1500),
    ("Gymnastikhalle", "commercial", "hour", 3000),
    ("Sitzungssaal Rathaus", "private", "use", 4000),
    ("Sitzungssaal Rathaus", "commercial", "use", 8000),
]


def seed() -> None:
    """The Satzung in force since 2026, with the demo halls' tariffs."""
    if db.session.scalar(select(FeeSchedule)) is not None:
        return
    resources = {r.name: r for r in db.session.scalars(select(Resource))}
    schedule = FeeSchedule(
        title="Sporthallen-Gebührensatzung vom 01.01.2026",
        valid_from=date(2026, 1, 1),
        late_cancel_percent=50,
        tariffs=[
            Tariff(resource=resources[name], group_key=group, unit=unit, amount_cents=cents)
            for name, group, unit, cents in DEMO_TARIFFS
            if name in resources
        ],
        adjustments=[
            FeeAdjustment(
                name="Wochenendzuschlag", condition=AdjustmentCondition.WEEKEND, percent=20
            ),
            FeeAdjustment(
                name="Jugendermäßigung", condition=AdjustmentCondition.YOUTH, percent=-50
            ),
            FeeAdjustment(
                name="Ermäßigung gemeinnützig",
                condition=AdjustmentCondition.NON_PROFIT,
                percent=-10,
            ),
            FeeAdjustment(
                name="Endreinigung", condition=AdjustmentCondition.CLEANING, amount_cents=2500
            ),
        ],
    )
    db.session.add(schedule)
    db.session.add_all(
        [
            FeeGroup(key="jugendarbeit", name="Jugendarbeit", free=True),
            FeeGroup(key="schulsport", name="Schulsport", free=True),
        ]
    )
    db.session.flush()
