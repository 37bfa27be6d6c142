"""CLI of the AI assistant: `ask` a question, list and delete conversations, set AI consent.

`petcare-dba ask [--connection C] [--conversation ID] [--as USER] "question"` is the same
assistant with the same rules as the UI page: the answer streams to stdout, tool calls and the
token count go to stderr (so stdout stays the answer), SQL the model proposes is listed and never
run. `--format json` prints the stored answer as one JSON object instead. `ai-conversations`
lists, `ai-conversations --delete ID` deletes; `ai-consent CONNECTION LEVEL` (admins) changes
what the assistant may see. Register with `assistant.register(app)`.
"""

from __future__ import annotations

import typer

from petcare_dba.cli.common import actor, emit_json, emit_table, one_of, runtime
from petcare_dba.services import assistant


def ask_cmd(
    question: str = typer.Argument(..., help="The question, in English or Portuguese."),
    connection: str | None = typer.Option(
        None, "--connection", "-c", help="Stored connection the question is about."
    ),
    conversation: int | None = typer.Option(
        None, "--conversation", help="Continue this conversation (id from ai-conversations)."
    ),
    as_user: str | None = typer.Option(None, "--as", help="Act as this user (default: admin)."),
    fmt: str = typer.Option(
        "text", "--format", help="text (streamed) or json.", callback=one_of("text", "json")
    ),
) -> None:
    """Ask the AI assistant; the answer is printed as it arrives."""
    with runtime() as rt:
        who = actor(rt, as_user)
        stream = assistant.ask(
            rt, who, question, connection=connection, conversation_id=conversation
        )
        for ev in stream:
            if fmt == "json":
                continue
            if ev.kind == "text":
                typer.echo(ev.text, nl=False)
            elif ev.kind == "tool" and ev.tool is not None:
                typer.echo(f"\n[tool] {ev.tool.name} {ev.tool.args} -> {ev.tool.summary}", err=True)
            elif ev.kind == "limit":
                typer.echo(f"\n[{ev.text}]", err=True)
        answer = stream.answer
        assert answer is not None  # noqa: S101 - set when the stream ends
        if fmt == "json":
            emit_json(
                {
                    "conversation_id": answer.conversation_id,
                    "message_id": answer.message_id,
                    "answer": answer.text,
                    "tools": [
                        {"name": t.name, "args": t.args, "ok": t.ok, "summary": t.summary}
                        for t in answer.tools
                    ],
                    "proposals": [p.__dict__ for p in answer.proposals],
                    "tokens_in": answer.tokens_in,
                    "tokens_out": answer.tokens_out,
                    "context_tables": list(answer.context.tables),
                }
            )
            return
        typer.echo("")
        for p in answer.proposals:
            kind = "read-only" if p.read_only else "WRITES - not run; open it in the SQL editor"
            typer.echo(f"[proposal {kind}] {p.sql}", err=True)
        typer.echo(
            f"[conversation {answer.conversation_id} · tokens in {answer.tokens_in} "
            f"out {answer.tokens_out}]",
            err=True,
        )


def conversations_cmd(
    delete: int | None = typer.Option(None, "--delete", help="Delete this conversation."),
    as_user: str | None = typer.Option(None, "--as", help="Act as this user (default: admin)."),
    fmt: str = typer.Option(
        "table", "--format", help="table or json.", callback=one_of("table", "json")
    ),
) -> None:
    """List your assistant conversations (or delete one)."""
    with runtime() as rt:
        who = actor(rt, as_user)
        if delete is not None:
            assistant.delete_conversation(rt, who, delete)
            typer.echo(f"deleted conversation {delete}")
            return
        rows = assistant.list_conversations(rt, who)
        if fmt == "json":
            emit_json(rows)
        else:
            emit_table(
                rows, ["id", "title", "connection", "messages", "tokens_total", "updated_at"]
            )


def consent_cmd(
    connection: str = typer.Argument(..., help="Stored connection name."),
    level: str = typer.Argument(..., help="none, schema, stats or data."),
    as_user: str | None = typer.Option(None, "--as", help="Act as this user (default: admin)."),
) -> None:
    """Set what the assistant may see of a connection (admins only)."""
    with runtime() as rt:
        assistant.set_consent(rt, actor(rt, as_user), connection, level)
        typer.echo(f"AI consent of {connection} is now {level}")


def register(app: typer.Typer) -> None:
    """Add `ask`, `ai-conversations` and `ai-consent` to the CLI app."""
    app.command("ask")(ask_cmd)
    app.command("ai-conversations")(conversations_cmd)
    app.command("ai-consent")(consent_cmd)
