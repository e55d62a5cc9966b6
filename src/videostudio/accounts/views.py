"""The caller's own account: balance and recent ledger entries."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from videostudio.accounts.models import Account
from videostudio.billing import service as billing
from videostudio.billing.schemas import LedgerEntryOut, ledger_entry_payload
from videostudio.jobs.schemas import iso
from videostudio.web.deps import authenticated
from videostudio.web.responses import APIResponse, errors

router = APIRouter(tags=["account"])


class AccountOut(BaseModel):
    account_id: str
    name: str
    credits_balance: int
    created_at: str | None


class AccountResponse(BaseModel):
    success: Literal[True] = True
    account: AccountOut
    ledger: list[LedgerEntryOut]


@router.get(
    "/api/v1/account/",
    summary="The calling account, its balance and recent ledger",
    response_model=AccountResponse,
    responses=errors(400, 401),
)
async def me(
    request: Request,
    ledger_limit: Annotated[int, Query(ge=0, le=200)] = 20,
) -> APIResponse:
    ctx, account = await authenticated(request)
    async with ctx.db.read() as session:
        row = await session.get(Account, account.id)
        balance = await billing.balance_of(session, account.id)
        entries = await billing.ledger(session, account_id=account.id, limit=ledger_limit)
    return APIResponse(
        {
            "success": True,
            "account": {
                "account_id": account.id,
                "name": account.name,
                "credits_balance": balance,
                "created_at": iso(row.created_at) if row else None,
            },
            "ledger": [ledger_entry_payload(entry) for entry in entries],
        }
    )
