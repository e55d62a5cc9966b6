"""The caller's own account: balance and recent ledger entries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from videostudio.accounts.models import Account
from videostudio.billing import service as billing
from videostudio.jobs.schemas import iso
from videostudio.web.deps import authenticated

router = APIRouter(tags=["account"])


@router.get("/api/v1/account/", summary="The calling account, its balance and recent ledger")
async def me(
    request: Request,
    ledger_limit: Annotated[int, Query(ge=0, le=200)] = 20,
) -> JSONResponse:
    ctx, account = await authenticated(request)
    async with ctx.db.read() as session:
        row = await session.get(Account, account.id)
        balance = await billing.balance_of(session, account.id)
        entries = await billing.ledger(session, account_id=account.id, limit=ledger_limit)
    return JSONResponse(
        {
            "success": True,
            "account": {
                "account_id": account.id,
                "name": account.name,
                "credits_balance": balance,
                "created_at": iso(row.created_at) if row else None,
            },
            "ledger": [
                {
                    "id": entry.id,
                    "amount": entry.amount,
                    "balance_after": entry.balance_after,
                    "kind": entry.kind,
                    "job_id": entry.job_id,
                    "reason": entry.reason,
                    "created_at": iso(entry.created_at),
                }
                for entry in entries
            ],
        }
    )
