"""3. Cold start: import each handler module in a fresh interpreter, the local stack's (the runtime's CPython 3.13
where installed: infra.bundling.local_python), from the Lambda bundle built for it (.build/<asset>-local-cpXY/<hash>/,
infra.bundling.build_lambda_asset) with the function's environment from the synthesized template. Target <= 300 ms
per handler, with the slowest imports named. Baseline: a bare `python -I -S -c pass` of the same interpreter."""

from __future__ import annotations

import subprocess
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.context import BenchContext
from bench.report import SectionResult, Target
from bench.stats import median, ms
from infra.bundling import RUNTIME_PYTHON, asset_of, interpreter_facts, local_python

NAME, TITLE = "coldstart", "3 Cold start"
TARGET_SECONDS = 0.300
MARK = "--bench-import-starts-here--"
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
# The Lambda runtime's own packages: nothing else of the dev environment (requests, say) may be found, or a handler
# would import what it cannot import on Lambda (the X-Ray SDK patches requests when it finds it).
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")


def runtime_site(root: Path, python: str) -> Path:
    """Where the measured interpreter finds what the Lambda runtime provides: its own site-packages when it is the
    runtime's (.venv-runtime: requirements/runtime.txt, nothing else); with this environment's interpreter (no
    CPython 3.13 here), a directory of links to its copies of the runtime's packages (made once per bundle dir)."""
    purelib = Path(subprocess.run([python, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    if purelib != SITE_PACKAGES:
        return purelib
    site = root / "lambda-runtime-site"
    site.mkdir(exist_ok=True)
    for name in RUNTIME_PACKAGES:
        link = site / name
        if not link.exists():
            link.symlink_to(SITE_PACKAGES / name)
    return site


IMPORT_CODE = (
    "import importlib, sys, time; sys.path[:0] = [{bundle!r}, {site!r}]; print({mark!r}, file=sys.stderr, "
    "flush=True); t, c = time.perf_counter(), time.process_time(); importlib.import_module({module!r}); "
    "print(time.perf_counter() - t, time.process_time() - c)"
)


@dataclass
class Node:
    name: str
    cumulative_us: int
    children: list[Node] = field(default_factory=list)


def run(ctx: BenchContext) -> SectionResult:
    result = SectionResult(NAME, TITLE)
    python = local_python()  # the local stack's: the runtime's CPython 3.13 where installed
    command = [python, "-I", "-S"]
    bundle, repeats = ctx.bundle_dir(python=python), (1 if ctx.smoke else 7)
    site = runtime_site(bundle.parent, python)
    functions = lambda_functions(ctx.template())
    bundles = {module: ctx.bundle_dir(asset_of(module.split(".")[0]), python) for module, _ in functions}
    envs = {module: _lambda_env(module, env_vars, bundles[module]) for module, env_vars in functions}
    bare: list[float] = []
    runs: dict[str, list[tuple[float, float, float]]] = {module: [] for module in envs}
    for _ in range(repeats):  # round robin, so that a busy moment of a shared machine hits every handler alike
        bare.append(_wall([*command, "-c", "pass"], bundle, _lambda_env("bench", {}, bundle)))
        for module, env in envs.items():
            runs[module].append(_import_once(command, module, bundles[module], site, env))
    baseline = median(bare)
    for module, env in envs.items():
        wall, cpu, process = (median([r[i] for r in runs[module]]) for i in range(3))
        slowest = ", ".join(f"{name} {ms(us / 1e6)}"
                            for name, us in slowest_imports(command, module, bundles[module], site, env))
        result.add(f"{module}: import CPU / wall", f"{ms(cpu)} / {ms(wall)}",
                   f"{ms(baseline)} bare interpreter; this one {ms(process)}", f"{process / baseline:.1f}x",
                   Target(f"CPU <= {TARGET_SECONDS * 1000:.0f} ms", cpu <= TARGET_SECONDS,
                          f"{module} takes {ms(cpu)} of CPU to import; slowest: {slowest}. See bench/README.md for "
                          "what would bring it under 300 ms."))
        result.note(f"{module} slowest imports (cumulative, -X importtime): {slowest}")
    detector_bundle = ", ".join(sorted({b.name for b in bundles.values()} - {bundle.name})) or "not deployed"
    version = interpreter_facts(python)[0]
    result.notes[:0] = [
        f"Bundle {bundle.name} (the face detector's own: {detector_bundle}; compiled, hash-checked .pyc), built for "
        f"the interpreter {python} -I -S (CPython {version}, the local stack's: "
        + ("the functions' runtime version" if version == RUNTIME_PYTHON else
           f"no CPython {RUNTIME_PYTHON} here, so this machine's") + "; no .pth hooks), sys.path = the bundle, "
        f"then what the Lambda runtime provides and the bundle does not ({site}: {', '.join(RUNTIME_PACKAGES)}), "
        "and nothing else. Handlers and the bare baseline run round robin. "
        "Environment: the function's variables from the template plus the Lambda runtime's (AWS_LAMBDA_FUNCTION_NAME, "
        "AWS_EXECUTION_ENV ...), so Powertools' Tracer starts the X-Ray SDK as it does on Lambda.",
        f"Import CPU / wall = process_time / perf_counter around importlib.import_module in the fresh interpreter, "
        f"median of {repeats}. The target is judged on CPU: on a shared 2-core machine the wall time mostly "
        "measures the other processes (a Lambda sandbox has its CPU share to itself); both are shown. Ratio = "
        "the whole interpreter's start-to-exit time over a bare one's. Slowest imports: one extra run with "
        "-X importtime, the top-level imports the handler triggered, by cumulative time (importtime adds overhead).",
    ]
    return result


def lambda_functions(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(handler module, environment variables) of every Python function of the project in the template."""
    found = []
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        handler = str(props.get("Handler", ""))
        if resource["Type"] == "AWS::Lambda::Function" and handler.endswith(".app.lambda_handler"):
            found.append((handler.removesuffix(".lambda_handler"), props.get("Environment", {}).get("Variables", {})))
    return sorted(found)


def _lambda_env(module: str, variables: dict[str, Any], bundle: Path) -> dict[str, str]:
    """What the Lambda runtime sets, plus the function's own variables (references become placeholders)."""
    env = {name: value if isinstance(value, str) else f"bench-placeholder-{name.lower()}"
           for name, value in variables.items()}
    return {**env, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": ":UTC", "LAMBDA_TASK_ROOT": str(bundle),
            "AWS_LAMBDA_FUNCTION_NAME": module.split(".")[0], "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{RUNTIME_PYTHON}", "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}


def _import_once(command: list[str], module: str, bundle: Path, site: Path,
                 env: dict[str, str]) -> tuple[float, float, float]:
    """(import wall, import CPU, whole process wall) of one fresh interpreter."""
    code = IMPORT_CODE.format(bundle=str(bundle), site=str(site), mark=MARK, module=module)
    started = time.perf_counter()
    done = subprocess.run([*command, "-c", code], cwd=bundle, env=env, capture_output=True, text=True,
                          check=True, timeout=120)
    process = time.perf_counter() - started
    wall, cpu = (float(x) for x in done.stdout.strip().splitlines()[-1].split())
    return wall, cpu, process


def _wall(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, timeout=60)
    return time.perf_counter() - started


def slowest_imports(command: list[str], module: str, bundle: Path, site: Path, env: dict[str, str],
                    top: int = 3) -> list[tuple[str, int]]:
    code = IMPORT_CODE.format(bundle=str(bundle), site=str(site), mark=MARK, module=module)
    done = subprocess.run([*command, "-X", "importtime", "-c", code], cwd=bundle, env=env,
                          capture_output=True, text=True, check=True, timeout=120)
    lines = done.stderr.split(MARK, 1)[-1].splitlines()
    package = module.split(".")[0]
    project = (package, "faceswap")
    costs = [cost for root in _import_tree(lines) for cost in _named_costs(root, project)]
    return sorted(costs, key=lambda cost: cost[1], reverse=True)[:top]


def _named_costs(node: Node, project: tuple[str, ...]) -> list[tuple[str, int]]:
    """Third-party imports by cumulative time; the project's own modules are opened up (their own code counts
    as "<module> (own code)") so that the names point at what is actually slow."""
    if node.name.split(".")[0] not in project:
        return [(node.name, node.cumulative_us)]
    own = node.cumulative_us - sum(child.cumulative_us for child in node.children)
    return [(f"{node.name} (own code)", own), *(c for child in node.children for c in _named_costs(child, project))]


def _import_tree(lines: list[str]) -> list[Node]:
    """-X importtime prints each import after its children (post-order), indented two spaces per level."""
    pending: dict[int, list[Node]] = {}
    for line in lines:
        if not line.startswith("import time:") or "imported package" in line:
            continue
        _, cumulative, name_part = line.split("|", 2)
        depth = (len(name_part) - len(name_part.lstrip(" ")) - 1) // 2
        node = Node(name_part.strip(), int(cumulative), pending.pop(depth + 1, []))
        pending.setdefault(depth, []).append(node)
    return pending.get(0, [])
