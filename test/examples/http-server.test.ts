import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { audioFixture, ROOT } from '../helpers/fixtures.js';

describe('examples/http-server (on 127.0.0.1)', function () {
  this.timeout(60000);
  it('serves transcripts through the library\'s server, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'examples', 'http-server.js'), '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        err += d;
        const m = /listening on (\S+)/.exec(err);
        if (m) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(err)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await fetch(`${url}/v1/transcribe`, { method: 'POST', body: fs.readFileSync(audioFixture('speech-en-us-16k.wav')) });
    assert.equal(r.status, 200);
    const j = (await r.json()) as { text: string; duration: number };
    assert.ok(j.text.split(' ').includes('lazy'), j.text);
    assert.ok(Math.abs(j.duration - 3.205) < 0.01);
    child.kill('SIGTERM');
    assert.equal(await new Promise((res) => child.on('exit', res)), 0);
  });
});
