"""A problem's long past, planted straight into the claims table: many claims released long ago."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from storage.models import Claim, ClaimState
from storage.store import Store
from tests.conftest import START


async def plant_ended(store: Store, number: str, count: int, community: str = "g1") -> None:
    """``count`` Discord claims on ``number`` released long before the tests' clock starts, one
    an hour (``old0`` first)."""
    past = START - timedelta(days=400)
    await store.execute(
        sa.insert(Claim),
        [
            {
                "problem_number": number,
                "platform": "discord",
                "community_id": community,
                "user_id": f"old{i}",
                "display_name": f"Old {i}",
                "claimed_at": past + timedelta(hours=i),
                "renewed_at": past + timedelta(hours=i),
                "state": ClaimState.RELEASED.value,
                "ended_at": past + timedelta(hours=i, minutes=30),
                "note": "",
            }
            for i in range(count)
        ],
    )


async def plant_sheet_claim(store: Store, number: str, text: str, age_days: int) -> None:
    """A claim copied from the sheet's cell ``text`` on ``number``, dated ``age_days`` before the
    tests' clock starts."""
    at = START - timedelta(days=age_days)
    await store.execute(
        sa.insert(Claim).values(
            problem_number=number,
            platform="sheet",
            display_name=text.split(" ")[0],
            source_text=text,
            claimed_at=at,
            renewed_at=at,
            date_known=True,
        )
    )
