// Writes docs/configuration.md from the config schemas (libs/config APP_SCHEMAS).
// A unit test in libs/config fails when the file is out of date: run `npm run docs:config`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configurationDoc } from '@kvr/config';

writeFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), configurationDoc());
process.stderr.write('wrote docs/configuration.md\n');
