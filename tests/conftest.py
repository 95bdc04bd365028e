"""Session-wide fixtures: the CDK app is synthesized once and shared by the template and end-to-end tests; the test
media are made once (tests/media.py); every local stack of the session records its AWS calls into one log
(`aws_call_log`), which the IAM proof reads last."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest

from infra.app import STACK_NAME, build_app
from tests.media import Media


@dataclass(frozen=True)
class Synthesized:
    app: cdk.App
    stack: cdk.Stack
    outdir: Path

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{STACK_NAME}.template.json"


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The same synth as `make synth`, with context that suits the local stack (short run timeout)."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    app = build_app(outdir=str(outdir), context=LOCAL_TEST_CONTEXT)
    app.synth()
    stack = app.node.find_child(STACK_NAME)
    assert isinstance(stack, cdk.Stack)
    yield Synthesized(app, stack, outdir)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    """Every kind of test media, each encoded once per session on first use (tests/emulator has its own)."""
    return Media(tmp_path_factory.mktemp("media"))


# Small limits so that the failure paths (poll limit, webhook wait, run timeout) are reachable in a test run;
# Wait states are time-scaled by the local stack, not these values. The assets are built for the local stack's
# interpreter (infra.functions.LOCAL_ASSETS_CONTEXT), whose workers run them.
LOCAL_TEST_CONTEXT: dict[str, object] = {
    "faceswap:max_polls": 40,
    "faceswap:webhook_wait_minutes": 30,
    "faceswap:run_timeout_minutes": 60,
    "faceswap:local_assets": True,
}


# --- the session's AWS call log and the tests that read it after everything else ----------------------------------
AFTER_ALL = "after_all"
CALL_LOG_ENV = "LOCAL_AWS_CALL_LOG"  # = local.aws.call_log.CALL_LOG_ENV (not imported: it brings moto in)
E2E_PACKAGES = ("tests/e2e", "tests/cli")  # the packages that deploy the real template
_whole_e2e_selected = pytest.StashKey[bool]()
_deselected_e2e = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--acceptance-stack", metavar="NAME", default=None,
                     help="run tests/acceptance against this deployed CloudFormation stack (AWS credentials and "
                          "region from the usual AWS_* environment; it spends vendor units) instead of the local "
                          "stack: `make acceptance STACK=FaceSwap`")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{AFTER_ALL}: runs after every other test (reads what the session recorded)")


@pytest.hookimpl(trylast=True)  # after -k/-m deselection
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    last = [item for item in items if item.get_closest_marker(AFTER_ALL)]
    items[:] = [item for item in items if not item.get_closest_marker(AFTER_ALL)] + last
    config.stash[_whole_e2e_selected] = _every_e2e_test_selected(config, items)


def pytest_deselected(items: list[pytest.Item]) -> None:
    if any(_in_e2e(item) for item in items):
        items[0].config.stash[_deselected_e2e] = True



def _in_e2e(item: pytest.Item) -> bool:
    return any(item.nodeid.startswith(package + "/") for package in E2E_PACKAGES)


def _every_e2e_test_selected(config: pytest.Config, items: list[pytest.Item]) -> bool:
    """Whether this session runs every end-to-end test (then every grant must have been used by some call)."""
    if config.stash.get(_deselected_e2e, False) or any("::" in str(arg) for arg in config.args):
        return False
    root = Path(str(config.rootpath))
    files = {p.relative_to(root).as_posix() for package in E2E_PACKAGES for p in (root / package).glob("test_*.py")}
    return files <= {item.nodeid.split("::")[0] for item in items}


def whole_e2e_selected(config: pytest.Config) -> bool:
    return config.stash.get(_whole_e2e_selected, False)


@pytest.fixture(scope="session", autouse=True)
def aws_call_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every LocalStack started in this session appends its principals' AWS calls here (local/aws/call_log.py)."""
    path = tmp_path_factory.mktemp("aws-calls") / "calls.jsonl"
    path.touch()
    previous = os.environ.get(CALL_LOG_ENV)
    os.environ[CALL_LOG_ENV] = str(path)
    yield path
    if previous is None:
        os.environ.pop(CALL_LOG_ENV, None)
    else:
        os.environ[CALL_LOG_ENV] = previous
