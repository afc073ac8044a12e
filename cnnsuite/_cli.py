"""The ``cnnsuite`` command line."""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ._errors import CnnsuiteError

# TensorFlow's C++ start-up chatter is not for users; warnings and errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks on errors.")
@click.option("--disable-plugins", metavar="NAMES", default=None,
              help="Comma-separated plugins to skip before importing them "
                   "(also $CNNSUITE_DISABLE_PLUGINS).")
@click.version_option(package_name="cnnsuite")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, disable_plugins: str | None) -> None:
    """cnnsuite: convolutional networks for images, video, text, series, molecules, tablets."""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    ctx.obj["disable"] = disable_plugins


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_plugins(ctx: click.Context, as_json: bool) -> None:
    """List installed plugins, their versions and status."""
    from ._discovery import discover

    infos = discover(ctx.obj["disable"])
    if as_json:
        rows = [{"name": i.name, "distribution": i.distribution, "version": i.version,
                 "status": i.status, "reason": i.reason,
                 "summary": i.manifest.summary if i.manifest else ""} for i in infos]
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="cnnsuite plugins")
    for column in ("plugin", "distribution", "version", "status", "summary / reason"):
        table.add_column(column)
    for info in infos:
        colour = {"ok": "green", "disabled": "dim"}.get(info.status, "red")
        detail = info.reason or (info.manifest.summary if info.manifest else "")
        table.add_row(info.name, info.distribution, info.version,
                      f"[{colour}]{info.status}[/]", detail)
    if not infos:
        stdout.print("no plugins installed; pip install a cnnsuite plugin, e.g. cnnsuite-images")
    else:
        stdout.print(table)


@cli.command()
@click.argument("plugin")
@click.pass_context
def info(ctx: click.Context, plugin: str) -> None:
    """Describe PLUGIN: summary, default configuration, data formats, metrics."""
    from ._config import defaults_for, help_for
    from ._discovery import get_manifest

    manifest = get_manifest(plugin, ctx.obj["disable"])
    stdout.print(f"[bold]{manifest.name}[/] {manifest.version} ({manifest.distribution}), "
                 f"contract {manifest.contract}")
    stdout.print(manifest.summary)
    stdout.print("\n[bold]Data formats[/] (--data PATH; default: offline data)")
    for fmt in manifest.data_formats:
        stdout.print(f"  - {fmt}")
    stdout.print("\n[bold]Metrics[/]: " + ", ".join(manifest.metrics))
    stdout.print("\n[bold]Default configuration[/] (TOML for --config; --set key=value)")
    click.echo(_commented_toml(defaults_for(manifest), help_for(manifest)))


def _commented_toml(config: dict[str, Any], helps: dict[str, str]) -> str:
    import tomli_w

    lines: list[str] = []
    tables = {k: v for k, v in config.items() if isinstance(v, dict)}
    for key, value in config.items():
        if not isinstance(value, dict):
            lines.append(_toml_line(key, value, helps.get(key)))
    for name, table in tables.items():
        lines.append(f"\n[{name}]")
        for key, value in table.items():
            if isinstance(value, dict):
                lines.append(tomli_w.dumps({name: {key: value}}).strip())
            else:
                lines.append(_toml_line(key, value, helps.get(f"{name}.{key}")))
    return "\n".join(lines)


def _toml_line(key: str, value: Any, help_text: str | None) -> str:
    import tomli_w

    line = tomli_w.dumps({key: value}).strip()
    return f"{line:<40} # {help_text}" if help_text else line


@cli.command()
@click.argument("plugin")
@click.option("--data", metavar="PATH", help="Your data (see 'cnnsuite info PLUGIN').")
@click.option("--config", "config_file", type=click.Path(path_type=Path),
              help="A TOML file of settings.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override one setting, e.g. --set train.epochs=5 (repeatable).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs"),
              show_default=True, help="Where run records go.")
@click.option("--seed", type=int, default=None, help="Random seed (overrides the config).")
@click.option("--quick", is_flag=True,
              help="Same code path on a small slice with a tiny budget (smoke test).")
@click.option("--resume", type=click.Path(path_type=Path), default=None,
              help="Continue an interrupted run in this run directory.")
@click.option("--json", "as_json", is_flag=True, help="Print metrics.json at the end.")
@click.option("--backend", type=click.Choice(["tensorflow", "jax", "torch"]), default=None,
              help="Keras backend (default: $KERAS_BACKEND, else tensorflow).")
@click.option("--distribute", is_flag=True,
              help="Data-parallel training on the Keras distribution API (needs --backend "
                   "jax); all local devices, or one process of a multi-process job.")
@click.option("--coordinator", metavar="HOST:PORT", default=None,
              help="Process 0's address for a multi-process job ($CNNSUITE_COORDINATOR).")
@click.option("--num-processes", type=int, default=None,
              help="Processes in the job ($CNNSUITE_NUM_PROCESSES).")
@click.option("--process-id", type=int, default=None,
              help="This process's index, 0-based ($CNNSUITE_PROCESS_ID).")
@click.option("--executor", metavar="SPEC", default=None,
              help="Where featurisation runs: local (processes, default), serial, dask-local "
                   "or dask://HOST:PORT (same as --set featurize.executor=SPEC).")
@click.pass_context
def run(ctx: click.Context, plugin: str, data: str | None, config_file: Path | None,
        overrides: tuple[str, ...], out: Path, seed: int | None, quick: bool,
        resume: Path | None, as_json: bool, backend: str | None, distribute: bool,
        coordinator: str | None, num_processes: int | None, process_id: int | None,
        executor: str | None) -> None:
    """Train PLUGIN, evaluate it on held-out data and write a run record."""
    from ._distributed import Distributed, select_backend

    if executor is not None:
        overrides = (*overrides, f"featurize.executor={executor}")

    select_backend(backend)
    distributed = (Distributed.from_options(coordinator, num_processes, process_id)
                   if distribute else None)
    from ._runner import run as run_plugin

    result = run_plugin(plugin, data=data, config_file=config_file, overrides=overrides,
                        out=out, seed=seed, quick=quick, resume=resume,
                        disable=ctx.obj["disable"], console=stderr, distributed=distributed)
    if distributed is not None and not distributed.is_chief:
        return
    if as_json:
        click.echo(json.dumps(result.metrics, indent=2))
    else:
        click.echo(str(result.run_dir))


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--data", metavar="PATH", help="Score on this data instead of the run's test split.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a setting of the run for this evaluation (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def evaluate(ctx: click.Context, run_dir: Path, data: str | None, overrides: tuple[str, ...],
             as_json: bool) -> None:
    """Reload a run's model and score it on held-out data."""
    from ._runner import evaluate_run

    metrics, rejected = evaluate_run(run_dir, data, ctx.obj["disable"], overrides)
    if as_json:
        click.echo(json.dumps({"metrics": metrics,
                               "rejected": [r.__dict__ for r in rejected]}, indent=2))
        return
    table = Table(title=f"metrics of {run_dir}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        if isinstance(value, int | float):
            table.add_row(key, f"{value:.4g}")
    head = metrics["headline"]
    table.add_row(f"[bold]headline: {head['name']}", f"[bold]{head['value']:.4g}")
    stdout.print(table)
    _report_rejected(rejected)


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("inputs", nargs=-1)
@click.option("--prompt", "prompts", multiple=True, metavar="TEXT",
              help="A text prompt, for plugins that read text (repeatable); taken as an input.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where files the plugin writes go (default: a new RUN_DIR/predictions/NNNN).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a setting of the run for this prediction (repeatable).")
@click.option("--horizon", type=click.IntRange(min=1), default=None, metavar="H",
              help="Forecasting plugins: steps ahead to forecast (= --set predict.horizon=H).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def predict(ctx: click.Context, run_dir: Path, inputs: tuple[str, ...],
            prompts: tuple[str, ...], out: Path | None,
            overrides: tuple[str, ...], horizon: int | None, as_json: bool) -> None:
    """Predict with a run's model on INPUTS (files or strings, per plugin).

    A single '-' reads a stream from standard input, for plugins that score streams,
    and prints one JSON line per result as soon as it is ready. Plugins that write
    files (clips, pictures) put them in a new folder each time and list them.
    """
    from ._runner import predict_run, stream_run

    if not inputs and not prompts:
        raise click.UsageError("give at least one input (a file, a string, '-') or --prompt")
    if horizon is not None:
        overrides = (*overrides, f"predict.horizon={horizon}")
    if inputs == ("-",) and not prompts:
        for row in stream_run(run_dir, sys.stdin, ctx.obj["disable"], overrides):
            click.echo(json.dumps(row))
            sys.stdout.flush()
        return
    rows, rejected = predict_run(run_dir, [*inputs, *prompts], ctx.obj["disable"], overrides,
                                 out_dir=out)
    if as_json:
        click.echo(json.dumps({"predictions": rows,
                               "rejected": [r.__dict__ for r in rejected]}, indent=2))
        return
    if rows:
        table = Table()
        columns = list(rows[0])
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*[_cell(row.get(c)) for c in columns])
        stdout.print(table)
    _report_rejected(rejected)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    return str(value)


def _report_rejected(rejected: list[Any]) -> None:
    for r in rejected:
        stderr.print(f"[yellow]rejected {r.id}: {r.reason}[/]")


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("inputs", nargs=-1, required=True)
@click.option("--method", type=click.Choice(["gradcam", "integrated-gradients", "occlusion"]),
              default="integrated-gradients", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where the pictures go (default: RUN_DIR/explanations/METHOD).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a setting of the run (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def explain(ctx: click.Context, run_dir: Path, inputs: tuple[str, ...], method: str,
            out: Path | None, overrides: tuple[str, ...], as_json: bool) -> None:
    """Show what a run's model looked at: one PNG and one .npy per input, top parts listed."""
    from ._runner import explain_run

    rows, rejected, target = explain_run(run_dir, list(inputs), method, out,
                                         ctx.obj["disable"], overrides)
    if as_json:
        click.echo(json.dumps({"explanations": rows, "out": str(target),
                               "rejected": [r.__dict__ for r in rejected]}, indent=2))
    else:
        table = Table(title=f"{method} explanations in {target}")
        for column in ("input", "prediction", "most important parts", "picture"):
            table.add_column(column)
        for row in rows:
            parts = "; ".join(f"{p['part']} ({p['share']:.0%})" for p in row.get("top", []))
            table.add_row(str(row["input"]), str(row.get("prediction", "")), parts,
                          str(row.get("png", "")))
        stdout.print(table)
    _report_rejected(rejected)


@cli.command(context_settings={"ignore_unknown_options": True,
                               "allow_interspersed_args": False})
@click.option("-n", "--num-processes", type=int, required=True, help="Processes to start.")
@click.option("--port", type=int, default=None, help="Coordinator port (default: a free one).")
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def launch(num_processes: int, port: int | None, command: tuple[str, ...]) -> None:
    """Run 'cnnsuite COMMAND' in N local processes of one job (e.g. run images --distribute).

    Output is prefixed with each process's index; if any process fails, all are stopped
    and the launcher exits non-zero naming the process.
    """
    from ._distributed import launch as launch_processes

    code = launch_processes(num_processes, list(command), port)
    if code:
        raise SystemExit(code)


@cli.command()
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None,
              help="Where to write it (default: ./cnnsuite-NAME).")
def new(name: str, directory: Path | None) -> None:
    """Write a new, installable plugin distribution NAME that works out of the box."""
    from ._scaffold import new_plugin

    target = new_plugin(name, directory)
    stdout.print(f"wrote plugin {name!r} in {target}; next: pip install -e {target} && "
                 f"cnnsuite check {name}")


@cli.command()
@click.argument("plugin")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def check(ctx: click.Context, plugin: str, as_json: bool) -> None:
    """Run the plugin contract's conformance checks on an installed PLUGIN."""
    from ._checks import run_checks

    results = run_checks(plugin, ctx.obj["disable"])
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        table = Table(title=f"conformance of {plugin}")
        for column in ("check", "result", "seconds", "reason"):
            table.add_column(column)
        for r in results:
            table.add_row(r.name, "[green]pass[/]" if r.ok else "[red]FAIL[/]",
                          f"{r.seconds:.1f}", r.reason)
        stdout.print(table)
    if not all(r.ok for r in results):
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning cnnsuite errors into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or "-v" in args
    try:
        cli.main(args=args, prog_name="cnnsuite", standalone_mode=False)
    except click.exceptions.Abort:
        stderr.print("aborted")
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except CnnsuiteError as exc:
        if verbose:
            traceback.print_exc()
        stderr.print(f"error: {exc}", markup=False)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        stderr.print(f"error: {type(exc).__name__}: {exc} (run with --verbose for the "
                     "traceback)", markup=False)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
