#!/usr/bin/env python3
"""Build one virtual environment per agent framework and run its tests in it.

Each framework of ``accord.integrations`` gets an environment of its own, because
their pins conflict (crewai wants ``openai<3`` and ``mcp<2``; openai-agents wants
``openai`` 3 and ``mcp`` 2). For each one this script

1. builds ``.venv-<framework>`` (``pip install -e '.[<framework>,integration-tests]'``,
   with uv when it is there) unless one built from the same requirements is there
   already (a stamp file holds a hash of the Python version and of pyproject.toml's
   dependency lists);
2. type-checks the integration (``mypy --strict``) against the real framework;
3. runs ``tests/integrations/<framework>/`` there, the current checkout first on the
   path, and reads pytest's JUnit report.

It fails if a type check or a test fails, or if a suite skipped a test or ran none.
``--envs DIR`` keeps the environments in DIR instead of the checkout (``.ci/run`` uses
a cache folder, so a machine builds them once). Arguments after ``--`` go to pytest::

    python scripts/integration_envs.py                      # all three
    python scripts/integration_envs.py crewai -- -k crews   # one, some tests
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
STAMP = "accord-env.json"


@dataclass(frozen=True)
class Framework:
    extra: str
    tests: str
    typed: tuple[str, ...]


FRAMEWORKS = {
    "langgraph": Framework(
        "langgraph", "tests/integrations/langgraph", ("src/accord/integrations/langgraph.py",)
    ),
    "openai-agents": Framework(
        "openai-agents", "tests/integrations/openai_agents",
        ("src/accord/integrations/openai_agents.py",),
    ),
    "crewai": Framework(
        "crewai", "tests/integrations/crewai",
        ("src/accord/integrations/crewai.py", "src/accord/testing/_crewai.py"),
    ),
}
EXTRAS = ("integration-tests", "testing", "redis")  # what every environment adds


@dataclass
class Outcome:
    name: str
    built: str = ""
    typecheck: str = "skipped"
    tests: str = ""
    seconds: float = 0.0
    ok: bool = False


def requirements_key(name: str) -> str:
    """A hash of what the environment of ``name`` installs: rebuilt when it changes."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = {
        "python": sys.version.split()[0],
        "dependencies": project["dependencies"],
        **{extra: extras[extra] for extra in (FRAMEWORKS[name].extra, *EXTRAS)},
    }
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()[:16]


def venv_of(name: str, envs: Path | None) -> Path:
    return (envs / name) if envs is not None else ROOT / f".venv-{name}"


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def build(name: str, venv: Path, rebuild: bool) -> str:
    """Make sure ``venv`` holds the environment of ``name``; say what was done."""
    key = requirements_key(name)
    stamp = venv / STAMP
    if not rebuild and stamp.exists() and json.loads(stamp.read_text()).get("key") == key:
        return "reused"
    began = time.monotonic()
    shutil.rmtree(venv, ignore_errors=True)
    spec = f"{ROOT}[{FRAMEWORKS[name].extra},integration-tests]"
    uv = find_uv()
    if uv is not None:  # the same install, ten times faster (crewai's: 10 s, not 170 s)
        run([uv, "venv", "-q", "--python", sys.executable, str(venv)])
        run([uv, "pip", "install", "-q", "--python", str(python_of(venv)), "-e", spec])
    else:
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(python_of(venv)), "-m", "pip", "install", "-q",
             "--disable-pip-version-check", "-e", spec])
    stamp.write_text(json.dumps({"key": key, "framework": name}))  # last: a broken build has none
    return f"built with {'uv' if uv else 'pip'} in {time.monotonic() - began:.0f} s"


def find_uv() -> str | None:
    """uv, installed beside this interpreter (the ``test`` extra has it) or on PATH."""
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv")


def run(command: list[str]) -> None:
    done = subprocess.run(command, text=True, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def environment() -> dict[str, str]:
    """The checkout's ``src`` first on the path, whichever checkout built the venv, and
    none of the main run's pytest options (``.ci/run`` sets PYTEST_ADDOPTS for it)."""
    path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    return {**env, "PYTHONPATH": path}


def typecheck(name: str, venv: Path) -> str:
    began = time.monotonic()
    done = subprocess.run(
        [str(python_of(venv)), "-m", "mypy", "--strict", "--cache-dir",
         str(venv / ".mypy_cache"), *FRAMEWORKS[name].typed],
        cwd=ROOT, env=environment(), text=True, capture_output=True,
    )
    if done.returncode != 0:
        raise AssertionError(f"mypy --strict failed in the {name} environment:\n{done.stdout}")
    return f"clean ({time.monotonic() - began:.0f} s)"


def test(name: str, venv: Path, extra: list[str], out: list[str]) -> str:
    """Run the suite of ``name`` (its output added to ``out``); raise unless every test
    ran and passed."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        done = subprocess.run(
            [str(python_of(venv)), "-m", "pytest", "-o", "addopts=", "-p", "accord.testing.plugin",
             "-p", "no:cacheprovider", "-q", "-ra", "--strict-markers", "--strict-config",
             f"--junitxml={report}", FRAMEWORKS[name].tests, *extra],
            cwd=ROOT, env=environment(), text=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        out.append(done.stdout)
        root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {k: sum(int(suite.get(k, 0)) for suite in suites)
              for k in ("tests", "failures", "errors", "skipped")}
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    summary = (f"{passed} passed, {counts['failures'] + counts['errors']} failed, "
               f"{counts['skipped']} skipped")
    complete = counts["tests"] > 0 and passed == counts["tests"]
    if done.returncode != 0 or not complete:
        raise AssertionError(f"{name}: {summary} (pytest exit code {done.returncode})")
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("frameworks", nargs="*",
                        help=f"frameworks to run: {', '.join(FRAMEWORKS)} (default: all)")
    parser.add_argument("--envs", type=Path, help="keep the environments in this folder")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the environments")
    parser.add_argument("--no-typecheck", action="store_true", help="skip mypy")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    names = args.frameworks or list(FRAMEWORKS)
    unknown = sorted(set(names) - set(FRAMEWORKS))
    if unknown:
        parser.error(f"unknown framework {', '.join(unknown)}; choose from {', '.join(FRAMEWORKS)}")
    outcomes = {name: Outcome(name) for name in names}
    began = time.monotonic()

    # builds wait on pip and the disk more than on the CPU: all at once
    with ThreadPoolExecutor(len(names)) as pool:
        futures = {n: pool.submit(build, n, venv_of(n, args.envs), args.rebuild) for n in names}
    for name, future in futures.items():
        try:
            outcomes[name].built = future.result()
        except RuntimeError as exc:
            outcomes[name].built = "build failed"
            print(exc, file=sys.stderr)
    def check(name: str) -> str:
        """Type-check and test one environment; its output, printed when all are done."""
        outcome, venv = outcomes[name], venv_of(name, args.envs)
        out = [f"\n=== {name} ({venv}) ===\n"]
        started = time.monotonic()
        try:
            if not args.no_typecheck:
                outcome.typecheck = typecheck(name, venv)
            outcome.tests = test(name, venv, extra, out)
            outcome.ok = True
        except AssertionError as exc:
            outcome.tests = outcome.tests or "not all passed"
            out.append(f"{exc}\n")
        outcome.seconds = time.monotonic() - started
        return "".join(out)

    # the suites wait on child processes and stores more than on the CPU: all at once
    ready = [n for n in names if outcomes[n].built != "build failed"]
    with ThreadPoolExecutor(max(1, len(ready))) as pool:
        for text in pool.map(check, ready):
            print(text, end="", flush=True)

    print(f"\nintegration environments ({time.monotonic() - began:.0f} s in all):")
    for o in outcomes.values():
        print(f"  {o.name:<14} {'ok  ' if o.ok else 'FAIL'}  env {o.built}; mypy {o.typecheck}; "
              f"tests {o.tests or '-'} ({o.seconds:.0f} s)")
    return 0 if all(o.ok for o in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
