"""The ledger entry as the API and the CLI show it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from videostudio.billing.models import LedgerEntry
from videostudio.jobs.schemas import iso


class LedgerEntryOut(BaseModel):
    id: int
    amount: int
    balance_after: int
    kind: Literal["grant", "debit", "refund", "adjustment"]
    job_id: str | None
    reason: str | None
    created_at: str | None


def ledger_entry_payload(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "amount": entry.amount,
        "balance_after": entry.balance_after,
        "kind": entry.kind,
        "job_id": entry.job_id,
        "reason": entry.reason,
        "created_at": iso(entry.created_at),
    }
