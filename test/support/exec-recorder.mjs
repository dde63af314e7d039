// An --exec command for tests: appends its arguments (after the log file) as one JSON line, and exits
// with the code in FILEPEER_TEST_EXIT_CODE (default 0), so tests see exactly what argv it was given.
import { appendFileSync } from 'node:fs';

const [log, ...args] = process.argv.slice(2);
appendFileSync(log, `${JSON.stringify(args)}\n`);
process.exit(Number(process.env.FILEPEER_TEST_EXIT_CODE ?? 0));
