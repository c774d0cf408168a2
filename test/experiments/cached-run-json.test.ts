/** readRun names the file when a run folder's JSON is broken. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { readRun } from '../../src/experiments/cached-run';

describe('experiments: readRun on broken JSON', () => {
  it('the error names the file and the parse problem', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cached-run-json-'));
    try {
      fs.writeFileSync(path.join(dir, 'metrics.json'), '[{"epoch": 1},');
      assert.throws(() => readRun(dir), (err: Error) => {
        assert.match(err.message, new RegExp(`${path.join(dir, 'metrics.json').replace(/[.]/g, '\\.')} is not valid JSON`));
        return true;
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
