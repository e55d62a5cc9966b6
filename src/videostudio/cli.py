"""The ``videostudio`` command line: serve, run workers, migrate, and administer accounts.

Every command reads the same settings as the server (``VIDEOSTUDIO_*``), brings the database schema
up to date first, and takes ``--json`` for scripts (one JSON document on stdout, nothing else).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from videostudio.accounts import service as accounts
from videostudio.billing import service as billing
from videostudio.billing.schemas import ledger_entry_payload
from videostudio.catalog.presenter import model_payload
from videostudio.catalog.service import CatalogError, load_catalog
from videostudio.config import Settings, load_settings, unknown_environment_settings
from videostudio.context import AppContext, build_context
from videostudio.db.migrate import upgrade
from videostudio.jobs.models import Job
from videostudio.jobs.schemas import iso, job_columns, job_payload

app = typer.Typer(help="Video Studio: a self-hostable video-generation API.", no_args_is_help=True)
accounts_app = typer.Typer(help="Create and list accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
credits_app = typer.Typer(help="Grant credits and read the ledger.", no_args_is_help=True)
models_app = typer.Typer(help="Inspect the model catalog.", no_args_is_help=True)
jobs_app = typer.Typer(help="Inspect jobs.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
media_app = typer.Typer(help="Stored media: retention and disk use.", no_args_is_help=True)
for sub, name in (
    (accounts_app, "accounts"),
    (keys_app, "keys"),
    (credits_app, "credits"),
    (models_app, "models"),
    (jobs_app, "jobs"),
    (db_app, "db"),
    (media_app, "media"),
):
    app.add_typer(sub, name=name)

console = Console()
err = Console(stderr=True)
T = TypeVar("T")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document, for scripts.")]


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)


def emit(data: Any, as_json: bool, render: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        render()


def settings_or_exit(**overrides: Any) -> Settings:
    for name in unknown_environment_settings():
        err.print(f"[yellow]warning:[/yellow] {name} is not a Video Studio setting (typo?)")
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except Exception as exc:
        raise fail(f"invalid settings: {exc}", 2) from exc


def context_or_exit(settings: Settings) -> AppContext:
    try:
        return build_context(settings)
    except (CatalogError, LookupError, ValueError) as exc:
        raise fail(str(exc), 2) from exc


def run_with_context(job: Callable[[AppContext], Awaitable[T]]) -> T:
    """Build the context, migrate, run ``job``, and close the database."""
    ctx = context_or_exit(settings_or_exit())

    async def main() -> T:
        try:
            await upgrade(ctx.settings.resolved_database_url)
            return await job(ctx)
        finally:
            await ctx.db.dispose()

    return asyncio.run(main())


# --- serve / worker / db -------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    worker: Annotated[
        bool | None, typer.Option("--worker/--no-worker", help="Run the job worker in-process.")
    ] = None,
) -> None:
    """Serve the API (and, by default, the job worker) on http://HOST:PORT."""
    import uvicorn

    from videostudio.web.app import create_app

    settings = settings_or_exit(host=host, port=port, worker_enabled=worker)
    ctx = context_or_exit(settings)
    logging.basicConfig(
        level=settings.python_log_level, format="%(levelname)s %(name)s: %(message)s"
    )

    def announce(created: Any) -> None:
        console.print(
            f"\n[bold green]Created operator account[/bold green] {created.account.name!r} "
            f"with {created.balance} credits.\n[bold]API key (shown once, keep it):[/bold] "
            f"{created.api_key}\n",
            soft_wrap=True,
        )

    application = create_app(settings, ctx=ctx, on_operator_created=announce)
    console.print(
        f"Video Studio on http://{settings.host}:{settings.port}  "
        f"(database: {ctx.db.dialect}, data: {settings.data_dir.resolve()})"
    )
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )


@app.command("worker")
def worker_command(
    once: Annotated[bool, typer.Option(help="Process what is runnable now, then exit.")] = False,
) -> None:
    """Run a job worker without the API (for more workers on more machines)."""
    from videostudio.jobs.worker import Worker

    settings = settings_or_exit()
    logging.basicConfig(
        level=settings.python_log_level, format="%(levelname)s %(name)s: %(message)s"
    )

    async def job(ctx: AppContext) -> None:
        removed = ctx.storage.sweep_temporary(older_than_seconds=3600)
        if removed:
            logging.getLogger("videostudio").info(
                "removed %d stale partial file(s) from crashed renders", removed
            )
        worker = Worker(ctx)
        if once:
            count = await worker.run_once()
            console.print(f"processed {count} job(s)")
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await worker.run(stop)

    run_with_context(job)


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOpt = False) -> None:
    """Apply database migrations up to the newest revision."""
    settings = settings_or_exit()
    asyncio.run(upgrade(settings.resolved_database_url))
    emit({"upgraded": True}, as_json, lambda: console.print("database is up to date"))


# --- accounts and keys ---------------------------------------------------------------------------


@accounts_app.command("create")
def accounts_create(
    name: str,
    credits: Annotated[int, typer.Option(min=0, help="Starting credits.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Create an account with an API key (printed once) and starting credits."""
    from videostudio import flows

    async def job(ctx: AppContext) -> flows.CreatedAccount:
        try:
            return await flows.create_account_with_key(ctx, name=name, credits=credits)
        except accounts.AccountExists as exc:
            raise fail(f"an account named {name!r} already exists") from exc

    created = run_with_context(job)
    data = {
        "account_id": created.account.id,
        "name": created.account.name,
        "credits_balance": created.balance,
        "api_key": created.api_key,
    }
    emit(
        data,
        as_json,
        lambda: console.print(
            f"account [bold]{name}[/bold] ({created.account.id}), {created.balance} credits\n"
            f"API key (shown once): [bold]{created.api_key}[/bold]",
            soft_wrap=True,
        ),
    )


@accounts_app.command("list")
def accounts_list(as_json: JsonOpt = False) -> None:
    """List accounts with their balances."""

    async def job(ctx: AppContext) -> list[dict[str, Any]]:
        async with ctx.db.read() as session:
            rows = await accounts.list_accounts(session)
        return [
            {
                "account_id": a.id,
                "name": a.name,
                "credits_balance": a.balance,
                "is_operator": a.is_operator,
                "created_at": iso(a.created_at),
            }
            for a in rows
        ]

    rows = run_with_context(job)

    def render() -> None:
        table = Table("account_id", "name", "credits", "operator", "created_at")
        for row in rows:
            table.add_row(
                row["account_id"],
                row["name"],
                str(row["credits_balance"]),
                "yes" if row["is_operator"] else "",
                row["created_at"],
            )
        console.print(table)

    emit(rows, as_json, render)


async def _account_or_exit(ctx: AppContext, ref: str) -> Any:
    async with ctx.db.read() as session:
        account = await accounts.get_account(session, ref)
    if account is None:
        raise fail(f"no account {ref!r} (give its id or name)")
    return account


@keys_app.command("create")
def keys_create(
    account: Annotated[str, typer.Argument(help="Account id or name.")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "default",
    as_json: JsonOpt = False,
) -> None:
    """Create an API key for ACCOUNT; the key is printed once."""

    async def job(ctx: AppContext) -> dict[str, Any]:
        target = await _account_or_exit(ctx, account)
        async with ctx.db.write() as session:
            new = await accounts.create_key(session, account_id=target.id, name=name)
        return {
            "key_id": new.key.id,
            "account_id": target.id,
            "name": name,
            "prefix": new.key.prefix,
            "api_key": new.secret,
        }

    data = run_with_context(job)
    emit(
        data,
        as_json,
        lambda: console.print(
            f"key {data['key_id']} for {account}\n"
            f"API key (shown once): [bold]{data['api_key']}[/bold]",
            soft_wrap=True,
        ),
    )


@keys_app.command("list")
def keys_list(
    account: Annotated[str, typer.Argument(help="Account id or name.")], as_json: JsonOpt = False
) -> None:
    """List ACCOUNT's keys (prefixes only; full keys are never stored)."""

    async def job(ctx: AppContext) -> list[dict[str, Any]]:
        target = await _account_or_exit(ctx, account)
        async with ctx.db.read() as session:
            keys = await accounts.list_keys(session, account_id=target.id)
        return [
            {
                "key_id": k.id,
                "name": k.name,
                "prefix": k.prefix,
                "created_at": iso(k.created_at),
                "revoked_at": iso(k.revoked_at),
                "active": k.revoked_at is None,
            }
            for k in keys
        ]

    rows = run_with_context(job)

    def render() -> None:
        table = Table("key_id", "name", "prefix", "created_at", "status")
        for row in rows:
            status = "active" if row["active"] else f"revoked {row['revoked_at']}"
            table.add_row(
                row["key_id"], row["name"], row["prefix"] + "…", row["created_at"], status
            )
        console.print(table)

    emit(rows, as_json, render)


@keys_app.command("revoke")
def keys_revoke(key_id: str, as_json: JsonOpt = False) -> None:
    """Revoke a key (refused everywhere within VIDEOSTUDIO_AUTH_CACHE_SECONDS)."""

    from videostudio import flows

    async def job(ctx: AppContext) -> dict[str, Any]:
        key = await flows.revoke_key(ctx, key_id)
        if key is None:
            raise fail(f"no key {key_id!r}")
        return {"key_id": key.id, "revoked_at": iso(key.revoked_at)}

    data = run_with_context(job)
    emit(data, as_json, lambda: console.print(f"revoked key {key_id}"))


# --- credits -------------------------------------------------------------------------------------


@credits_app.command("add", context_settings={"ignore_unknown_options": True})
def credits_add(
    account: Annotated[str, typer.Argument(help="Account id or name.")],
    amount: Annotated[int, typer.Argument(help="Credits to add (negative to correct).")],
    reason: Annotated[str, typer.Option(help="Why; stored in the ledger.")],
    as_json: JsonOpt = False,
) -> None:
    """Add credits to ACCOUNT (one ledger entry)."""

    async def job(ctx: AppContext) -> dict[str, Any]:
        target = await _account_or_exit(ctx, account)
        kind = "grant" if amount >= 0 else "adjustment"
        try:
            async with ctx.db.write() as session:
                balance = await billing.grant(
                    session, account_id=target.id, amount=amount, reason=reason, kind=kind
                )
        except billing.InsufficientCredits as exc:
            raise fail(f"balance is {exc.available}; cannot remove {-amount}") from exc
        return {"account_id": target.id, "added": amount, "credits_balance": balance}

    data = run_with_context(job)
    emit(
        data,
        as_json,
        lambda: console.print(f"{account}: {amount:+d} credits, balance {data['credits_balance']}"),
    )


@credits_app.command("show")
def credits_show(
    account: Annotated[str, typer.Argument(help="Account id or name.")],
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Ledger rows to show.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Show ACCOUNT's balance and newest ledger entries."""

    async def job(ctx: AppContext) -> dict[str, Any]:
        target = await _account_or_exit(ctx, account)
        async with ctx.db.read() as session:
            balance = await billing.balance_of(session, target.id)
            entries = await billing.ledger(session, account_id=target.id, limit=limit)
        return {
            "account_id": target.id,
            "name": target.name,
            "credits_balance": balance,
            "ledger": [ledger_entry_payload(entry) for entry in entries],
        }

    data = run_with_context(job)

    def render() -> None:
        console.print(f"[bold]{data['name']}[/bold]: {data['credits_balance']} credits")
        table = Table("id", "amount", "balance_after", "kind", "job_id", "reason", "created_at")
        for e in data["ledger"]:
            table.add_row(
                str(e["id"]),
                f"{e['amount']:+d}",
                str(e["balance_after"]),
                e["kind"],
                e["job_id"] or "",
                e["reason"] or "",
                e["created_at"],
            )
        console.print(table)

    emit(data, as_json, render)


# --- models and jobs -----------------------------------------------------------------------------


def _catalog_or_exit() -> Any:
    settings = settings_or_exit()
    try:
        return load_catalog(settings.catalog_path)
    except CatalogError as exc:
        raise fail(str(exc), 2) from exc


@models_app.command("list")
def models_list(as_json: JsonOpt = False) -> None:
    """List the catalog's models."""
    catalog = _catalog_or_exit()
    rows = [model_payload(m, catalog) for m in catalog.models.values()]

    def render() -> None:
        table = Table("slug", "name", "durations", "aspect ratios", "quality", "credits")
        for row in rows:
            durations = row["durations"]
            span = (
                f"{durations['min']}-{durations['max']} s"
                if durations["type"] == "range"
                else ", ".join(str(v) for v in durations["values"]) + " s"
            )
            table.add_row(
                row["slug"],
                row["name"],
                span,
                ", ".join(row["aspect_ratios"]) or "from input",
                ", ".join(row["quality_modes"]) or "not required",
                row["credits"]["description"],
            )
        console.print(table)

    emit(rows, as_json, render)


@models_app.command("show")
def models_show(slug: str, as_json: JsonOpt = False) -> None:
    """Show one model's capabilities and pricing."""
    catalog = _catalog_or_exit()
    model = catalog.get(slug)
    if model is None:
        raise fail(f"unknown model slug {slug!r}")
    data = model_payload(model, catalog)
    emit(data, as_json, lambda: console.print_json(json.dumps(data)))


@jobs_app.command("show")
def jobs_show(job_id: str, as_json: JsonOpt = False) -> None:
    """Show any job (operator view, all accounts)."""

    async def job(ctx: AppContext) -> dict[str, Any]:
        async with ctx.db.read() as session:
            row = await session.get(Job, job_id)
        if row is None:
            raise fail(f"no job {job_id!r}")
        base = ctx.settings.public_base_url or f"http://{ctx.settings.host}:{ctx.settings.port}"
        data = job_payload(job_columns(row), base + "/media/")
        data.update(account_id=row.account_id, attempts=row.attempts, params=row.params)
        return data

    data = run_with_context(job)
    emit(data, as_json, lambda: console.print_json(json.dumps(data, default=str)))


@media_app.command("prune")
def media_prune(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be deleted; delete nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete expired results and assets, unreferenced files and stale partial files."""
    from videostudio import flows

    async def job(ctx: AppContext) -> flows.PruneReport:
        if as_json:
            return await flows.prune_media(ctx, dry_run=dry_run)
        with console.status("Pruning media...") as status:
            return await flows.prune_media(
                ctx, dry_run=dry_run, on_step=lambda name: status.update(f"Pruning {name}...")
            )

    report = run_with_context(job)
    data = dataclasses.asdict(report)

    def render() -> None:
        verb = "Would free" if dry_run else "Freed"
        line = (
            f"{verb} [bold]{_human_bytes(report.bytes)}[/bold] in {report.files} file(s): "
            f"{report.expired_jobs} expired job result(s), {report.expired_assets} expired "
            f"asset(s), {report.orphan_files} unreferenced file(s)"
        )
        if not dry_run:
            line += f"; {report.temporary_files} stale partial file(s) removed"
        console.print(line + ".")

    emit(data, as_json, render)


def _human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{count} B"
        value /= 1024
    return f"{value:.1f} TB"


def main() -> None:
    app()


if __name__ == "__main__":
    main()
