"""Take in later versions of the template this repo was generated from (`make update`, `make check-template`).

The repo records its template source, commit and inputs in `.cruft.json` (written by `cruft create` or by
the Studio launch). `update` runs `cruft update`, which renders the template at the recorded commit and at
the newest one with the same inputs and applies the difference as a three-way merge: a template change to a
file nobody edited arrives, a local edit the template did not touch survives, and where both changed the
same lines git leaves conflict markers (or `*.rej` files outside git). cruft reports those in passing and
exits 0; this command names every conflicted file, says whose it is, and exits 1, so nothing is silently
half-merged. `check` only warns (exit 0) when a newer template commit exists.

cruft runs as its console script, not in this process: `python -m` would put this repo first on sys.path and
the template's generation hooks would then import this repo's copy of `pipelines` instead of the template's.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Files the platform (the template) owns: take its version unless you mean to diverge. Everything else
# (seedcode/, data, pyproject.toml values, infra/envs/*.tfvars, README.md) is the team's.
PLATFORM_PATHS = (".ci/", ".gitignore", "Makefile", "bench/", "buildspec.yml", "container.mk", "pipelines/",
                  "pytest.ini", "requirements", "ruff.toml", "tests/", "infra/tools/", "infra/checkov.mk")
PLATFORM_INFRA_ROOT = "infra/*.tf"


class TemplateUpdateError(Exception):
    """A problem the user fixes; the message says what and how."""


@dataclass(frozen=True)
class UpdateRequest:
    project_dir: Path
    cruft: Path  # the cruft console script


def cruft_script() -> Path:
    """The cruft console script of this interpreter's environment, else the one on PATH."""
    beside = Path(sys.executable).parent / "cruft"
    return beside if beside.is_file() else Path(shutil.which("cruft") or beside)


def owner_of(path: str) -> str:
    """'platform' for a file the template owns, 'team' for one the team owns."""
    if any(path.startswith(prefix) for prefix in PLATFORM_PATHS) or Path(path).match(PLATFORM_INFRA_ROOT):
        return "platform"
    return "team"


def _git(project_dir: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=project_dir, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TemplateUpdateError(f"git {' '.join(args)} failed in {project_dir}: {done.stderr.strip()}")
    return done.stdout


def _preflight(request: UpdateRequest) -> None:
    if not (request.project_dir / ".cruft.json").is_file():
        raise TemplateUpdateError(f"{request.project_dir} has no .cruft.json, so its template is unknown; record it "
                                  "once with `cruft link <template git URL>` and commit")
    if not request.cruft.is_file():
        raise TemplateUpdateError(f"cruft is not installed at {request.cruft}; run `make venv` (requirements.lock "
                                  "pins it)")


def conflicted_files(project_dir: Path) -> list[str]:
    """Files git left unmerged by the three-way apply, plus any `*.rej` file of a rejected hunk."""
    unmerged = _git(project_dir, "diff", "--name-only", "--diff-filter=U").split()
    untracked = _git(project_dir, "ls-files", "--others", "--exclude-standard").split()
    rejected = [name.removesuffix(".rej") for name in untracked if name.endswith(".rej")]
    return sorted(set(unmerged) | set(rejected))


def conflict_message(files: list[str]) -> str:
    listed = ", ".join(f"{name} ({owner_of(name)})" for name in files)
    return (f"the template update conflicts with local edits in {len(files)} file(s): {listed}. "
            "Resolve the <<<<<<< markers (or the .rej hunks) in each; for a platform file prefer the template's "
            "lines (`git checkout --theirs FILE`), then run the tests and commit.")


def update(request: UpdateRequest) -> str:
    """Apply the newest template commit; the summary line, or TemplateUpdateError naming what to do."""
    _preflight(request)
    if _git(request.project_dir, "status", "--porcelain", "--untracked-files=no").strip():
        raise TemplateUpdateError("the repo has uncommitted changes; commit or stash them, then run make update")
    done = subprocess.run([str(request.cruft), "update", "--skip-apply-ask", "--allow-untracked-files",
                           "--project-dir", str(request.project_dir)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise TemplateUpdateError(f"cruft update failed: {last[0]}")
    conflicts = conflicted_files(request.project_dir)
    if conflicts:
        raise TemplateUpdateError(conflict_message(conflicts))
    if "already up to date" in done.stdout:
        return "the repo is already on the template's newest commit"
    changed = _git(request.project_dir, "status", "--porcelain").splitlines()
    return f"took in the template's newest commit: {len(changed)} file(s) changed; review with git diff, then commit"


def check(request: UpdateRequest) -> str:
    """One line: up to date, or a warning that a newer template commit exists (never an error)."""
    _preflight(request)
    done = subprocess.run([str(request.cruft), "check", "--project-dir", str(request.project_dir)],
                          capture_output=True, text=True, check=False)
    if "SUCCESS" in done.stdout:
        return "the repo is on the template's newest commit"
    if "FAILURE" in done.stdout:
        return "warning: the template has a newer commit than this repo's .cruft.json; run make update"
    last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
    return f"warning: could not check the template ({last[0]}); make update needs it reachable"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.template_update", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("update", "check"))
    parser.add_argument("--project-dir", type=Path, default=Path.cwd(), help="the generated repo (default: here)")
    args = parser.parse_args(argv)
    request = UpdateRequest(args.project_dir.resolve(), cruft_script())
    try:
        print(update(request) if args.command == "update" else check(request))
    except TemplateUpdateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
