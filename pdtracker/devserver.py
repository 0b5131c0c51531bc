"""`make run`: the web app and the scheduler side by side, for the demo."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys


def main() -> int:
    """Start the scheduler process (when available) and the development server."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5000")
    args = parser.parse_args()
    flask = [sys.executable, "-m", "flask", "--app", "pdtracker"]
    # SIGTERM (a supervisor, `kill`) stops both children as Ctrl-C does; without
    # this the process would die at once and leave the scheduler running.
    signal.signal(signal.SIGTERM, _interrupt)
    scheduler = None
    if _has_scheduler_command(flask):
        scheduler = subprocess.Popen([*flask, "scheduler"], env=os.environ.copy())
    _print_logins(args.host, args.port)
    web = None
    try:
        web = subprocess.Popen(
            [*flask, "run", "--host", args.host, "--port", args.port]
        )
        return web.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(web, scheduler)


def _stop(*children: subprocess.Popen | None) -> None:
    """Terminate the children and wait for them (a child left unwaited stays a zombie)."""
    running = [c for c in children if c is not None and c.poll() is None]
    for child in running:
        child.terminate()
    for child in running:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _has_scheduler_command(flask: list[str]) -> bool:
    result = subprocess.run([*flask, "--help"], capture_output=True, text=True)
    return "scheduler" in result.stdout


def _print_logins(host: str, port: str) -> None:
    print(f"\n  pdtracker: http://{host}:{port}/login")
    print(
        "  logins (password pdtracker-demo): teacher1, teacher2, head1, head2, staff1, admin\n"
    )


if __name__ == "__main__":
    sys.exit(main())
