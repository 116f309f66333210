#!/usr/bin/env node
// Reads jest's --json results and prints the one plain line CI reads:
//   Tests: N passed, N failed[, N skipped]
// A suite that failed to load (syntax error, missing module, failing hook) counts as one failed
// test, so a broken file can never hide behind a green count. Exit code 1 when anything failed
// or when no test ran at all.
const fs = require('node:fs');

const file = process.argv[2];
if (!file || !fs.existsSync(file)) {
  process.stdout.write('Tests: 0 passed, 1 failed\n');
  process.stderr.write(`summarize: no jest results at ${file ?? '(none given)'}\n`);
  process.exit(1);
}
const results = JSON.parse(fs.readFileSync(file, 'utf8'));
const brokenSuites = results.testResults.filter(
  (suite) => suite.status === 'failed' && suite.assertionResults.every((a) => a.status !== 'failed'),
).length;
const passed = results.numPassedTests;
const failed = results.numFailedTests + brokenSuites;
const skipped = results.numPendingTests + results.numTodoTests;
let line = `Tests: ${passed} passed, ${failed} failed`;
if (skipped > 0) line += `, ${skipped} skipped`;
process.stdout.write(`${line}\n`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
