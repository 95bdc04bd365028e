"""`faceswap`: submit videos to the face-swap pipeline, follow them, fetch the results.

    faceswap submit clip.mp4 me.jpg --wait -o swapped.mp4     # the deployed stack (--stack FaceSwap)
    faceswap --local submit clip.mp4 me.jpg --wait            # the local stack of `make local-up`
    faceswap status clip | faceswap list | faceswap result clip -o out.mp4 | faceswap wait clip
    faceswap doctor                                           # is the stack ready for its first job?
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from faceswap import layout
from faceswap_cli.display import TransferBar, WaitDisplay, fmt_seconds, table
from faceswap_cli.doctor import failed, format_report, run_doctor
from faceswap_cli.errors import EXIT_CHECK_FAILED, EXIT_INTERRUPTED, EXIT_OK, CliError, JobNotFound, explain_aws_error
from faceswap_cli.inputs import check_inputs
from faceswap_cli.jobs import JobStatus, download_result, job_failed_error, job_status, object_exists, submit_job
from faceswap_cli.listing import list_jobs
from faceswap_cli.stack import DEFAULT_STACK, Clients, StackInfo, discover_stack, load_local_stack
from faceswap_cli.waiting import JobResult, wait_for_result

EXIT_UNEXPECTED = 70


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        stack = resolve_stack(args)
        command: Callable[[argparse.Namespace, StackInfo, Clients, TextIO, TextIO], int] = args.command
        return command(args, stack, Clients.for_stack(stack, _session(args)), out, err)
    except KeyboardInterrupt:
        err.write("\nInterrupted. A submitted job keeps running: check it with `faceswap status NAME`.\n")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.debug:
            raise
        return _report(exc, err)


def _report(exc: Exception, err: TextIO) -> int:
    problem = exc if isinstance(exc, CliError) else _explained(exc)
    if problem is None:
        err.write(f"faceswap: unexpected error: {type(exc).__name__}: {exc}\n"
                  "  Re-run with --debug for the traceback, and report it if it looks like a bug.\n")
        return EXIT_UNEXPECTED
    err.write(f"faceswap: {problem.message}\n  {problem.fix}\n")
    return problem.exit_code


def _explained(exc: Exception) -> CliError | None:
    if isinstance(exc, ClientError | BotoCoreError):
        return explain_aws_error(exc, "the face-swap stack")
    return None


# --- stack ---------------------------------------------------------------------------------------------------
def resolve_stack(args: argparse.Namespace) -> StackInfo:
    if args.local:
        return load_local_stack(args.state_file)
    return discover_stack(_session(args) or boto3.Session(), args.stack)


def _session(args: argparse.Namespace) -> boto3.Session | None:
    if args.local:
        return None
    return boto3.Session(profile_name=args.profile, region_name=args.region)


# --- commands ------------------------------------------------------------------------------------------------
def cmd_submit(args: argparse.Namespace, stack: StackInfo, clients: Clients, out: TextIO, err: TextIO) -> int:
    checked = check_inputs(args.video, args.face)
    v = checked.video_info
    err.write(f"Checked {args.video.name}: {v.duration_seconds:.1f} s, {v.width}x{v.height}, {v.fps:.0f} fps, "
              f"{v.video_codec}; {args.face.name}: {checked.face_info.format.upper()} "
              f"{checked.face_info.width}x{checked.face_info.height}.\n")
    job = submit_job(clients, stack, args.video, args.face, name=args.name, run=args.run, watcher=TransferBar(err))
    err.write(f"Submitted job {job.job_id} ({job.units} vendor unit{'s' * (job.units != 1)}) "
              f"to {stack.name} ({stack.bucket}).\n")
    if not args.wait:
        err.write(f"Follow it with `{_hint(args, 'wait', job.job_id)}`.\n")
        out.write(job.job_id + "\n")
        return EXIT_OK
    return _wait_and_fetch(args, stack, clients, job.job_id, out, err)


def cmd_wait(args: argparse.Namespace, stack: StackInfo, clients: Clients, out: TextIO, err: TextIO) -> int:
    try:  # a clear "no such job" instead of waiting for one that never comes
        job_status(clients, stack, args.job)
    except JobNotFound:
        manifest = stack.manifest_key(layout.job_name(args.job))
        if not object_exists(clients, stack, manifest):  # else: submitted a moment ago, not started yet
            raise
    return _wait_and_fetch(args, stack, clients, args.job, out, err)


def _wait_and_fetch(args: argparse.Namespace, stack: StackInfo, clients: Clients, job_id: str, out: TextIO,
                    err: TextIO) -> int:
    result = wait_for_result(clients, stack, job_id, args.timeout, poll_interval=_poll_interval(args, stack),
                             on_progress=WaitDisplay(err))
    if not result.succeeded:
        raise job_failed_error(job_id, result.error)
    _describe_success(result, err)
    path = download_result(clients, stack, job_id, args.output or Path(f"{job_id}.mp4"), TransferBar(err))
    out.write(f"{path}\n")
    return EXIT_OK


def _describe_success(result: JobResult, err: TextIO) -> None:
    status = result.status or {}
    how = {"webhook": "the webhook", "polling": f"polling (after {result.polls} polls)"}.get(result.ended_by or "")
    seen = f"; the end was seen first by {how}" if how else ""
    err.write(f"Job {result.job_id} succeeded in {fmt_seconds(result.elapsed_seconds)}{seen}; "
              f"{status.get('units', '?')} vendor unit(s) charged.\n")


def cmd_status(args: argparse.Namespace, stack: StackInfo, clients: Clients, out: TextIO, err: TextIO) -> int:
    status = job_status(clients, stack, args.job)
    if args.json:
        out.write(json.dumps(_status_dict(status), indent=2, default=str) + "\n")
    else:
        out.write(table(("", ""), _status_rows(status, stack)) + "\n")
    if status.failed:
        problem = job_failed_error(status.job_id, status.error_doc)
        err.write(f"{problem.message}\n  {problem.fix}\n")
        return problem.exit_code
    return EXIT_OK


def _status_dict(status: JobStatus) -> dict[str, object]:
    record = {k: v for k, v in (status.record or {}).items() if k not in ("pk", "expires_at")}
    return {"job_id": status.job_id, "state": status.state, "execution_status": status.execution_status,
            "output_key": status.output_key, "record": record, "status": status.status_doc,
            "error": status.error_doc}


def _status_rows(status: JobStatus, stack: StackInfo) -> list[tuple[str, str]]:
    r = {**(status.status_doc or {}), **(status.record or {})}
    rows = [("job", status.job_id), ("state", status.state), ("execution", status.execution_status)]
    for label, key in (("task", "task_id"), ("units", "units"), ("video (s)", "duration_seconds"),
                       ("created", "created_at"), ("queued since", "queued_since"), ("waiting for", "queue_reason"),
                       ("submitted", "submitted_at"), ("finished", "finished_at")):
        if r.get(key) not in (None, ""):
            rows.append((label, str(r[key])))
    if status.output_key:
        rows.append(("result", f"s3://{stack.bucket}/{status.output_key}"))
    return rows


def cmd_list(args: argparse.Namespace, stack: StackInfo, clients: Clients, out: TextIO, err: TextIO) -> int:
    jobs = list_jobs(clients, stack, args.limit)
    if args.json:
        out.write(json.dumps([vars(j) for j in jobs], indent=2) + "\n")
        return EXIT_OK
    if not jobs:
        err.write(f"No jobs yet in {stack.bucket}. Submit one with `{_hint(args, 'submit', 'VIDEO FACE')}`.\n")
        return EXIT_OK
    rows = [(j.job_id, j.state, j.created_at, fmt_seconds(j.elapsed_seconds),
             "-" if j.video_seconds is None else f"{j.video_seconds:.1f} s",
             "-" if j.units is None else str(j.units), j.error_code or j.waiting_for or "") for j in jobs]
    out.write(table(("JOB", "STATE", "CREATED", "TOOK", "VIDEO", "UNITS", "ERROR / WAITING FOR"), rows) + "\n")
    return EXIT_OK


def cmd_result(args: argparse.Namespace, stack: StackInfo, clients: Clients, out: TextIO, err: TextIO) -> int:
    path = download_result(clients, stack, args.job, args.output or Path(f"{args.job}.mp4"), TransferBar(err))
    out.write(f"{path}\n")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace, stack: StackInfo, clients: Clients, out: TextIO, err: TextIO) -> int:
    checks = run_doctor(stack, _session(args))
    where = "the local stack" if stack.is_local else f"stack {stack.name} ({stack.region})"
    out.write(format_report(f"Checking {where} before its first job:", checks))
    return EXIT_CHECK_FAILED if failed(checks) else EXIT_OK


def _poll_interval(args: argparse.Namespace, stack: StackInfo) -> float:
    if args.poll_interval is not None:
        return float(args.poll_interval)
    return 0.25 if stack.is_local else 2.0


def _hint(args: argparse.Namespace, command: str, rest: str) -> str:
    return f"faceswap {'--local ' if args.local else ''}{command} {rest}"


# --- arguments -----------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faceswap", description="Face-swap videos with the deployed pipeline "
                                     "(or the local stack with --local).")
    _add_common(parser, defaults=True)
    commands = parser.add_subparsers(dest="name", required=True, metavar="COMMAND")
    submit = _command(commands, "submit", cmd_submit, "upload a video and a face photo and start a job")
    submit.add_argument("video", type=Path, help="MP4/MOV video (H.264 or MPEG-4, up to 30 s, 4K, 30 fps, 100 MB)")
    submit.add_argument("face", type=Path, help="JPEG/PNG photo of the face to put in (up to 10 MB)")
    submit.add_argument("--name", help="job name (default: from the video's file name)")
    submit.add_argument("--run", type=int, help="run number, to run the same name again (job id NAME--runN)")
    submit.add_argument("--wait", action="store_true", help="follow the job and download the result")
    _add_wait_options(submit)
    _add_wait_options(_job_command(commands, "wait", cmd_wait, "follow a job to its end and download the result"))
    status = _job_command(commands, "status", cmd_status, "show a job's state, units, timings and any error")
    status.add_argument("--json", action="store_true", help="print everything as JSON")
    listing = _command(commands, "list", cmd_list, "recent jobs with state, duration and units")
    listing.add_argument("--limit", type=int, default=20, help="how many jobs (default 20)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    result = _job_command(commands, "result", cmd_result, "download a finished job's video")
    result.add_argument("-o", "--output", type=Path, help="where to save it (default ./JOB.mp4)")
    _command(commands, "doctor", cmd_doctor, "check a deployed stack before its first job: secrets, vendor key "
             "and balance, webhook, alarm e-mail, upload events")
    return parser


def _command(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
             handler: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
    sub = commands.add_parser(name, help=help_text, description=help_text)
    _add_common(sub, defaults=False)
    sub.set_defaults(command=handler)
    return sub


def _job_command(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
                 handler: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
    sub = _command(commands, name, handler, help_text)
    sub.add_argument("job", help="job id: the name, or NAME--runN for a re-run")
    return sub


def _add_wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, help="where to save the result (default ./JOB.mp4)")
    parser.add_argument("--timeout", type=float, default=7200.0, help="give up waiting after this many seconds")


def _add_common(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """Accepted before or after the command; a subcommand's copy only overrides what was given there."""
    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    group = parser.add_argument_group("where the pipeline is")
    group.add_argument("--stack", default=default(os.environ.get("FACESWAP_STACK", DEFAULT_STACK)),
                       help="CloudFormation stack name (default FaceSwap, or $FACESWAP_STACK)")
    group.add_argument("--region", default=default(None), help="AWS region (default: your AWS configuration)")
    group.add_argument("--profile", default=default(None), help="AWS profile (default: your AWS configuration)")
    group.add_argument("--local", action="store_true", default=default(False),
                       help="use the local stack started by `make local-up`")
    group.add_argument("--state-file", type=Path, default=default(None),
                       help="the local stack's state file (default: .local-stack.json, found upwards)")
    group.add_argument("--poll-interval", type=float, default=default(None),
                       help="seconds between status checks (default 2, or 0.25 locally)")
    group.add_argument("--debug", action="store_true", default=default(False), help="show tracebacks")


if __name__ == "__main__":
    raise SystemExit(main())
