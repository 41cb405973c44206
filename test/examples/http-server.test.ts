import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../examples/http-server.js';
import { audioFixture, wavFixture } from '../helpers/fixtures.js';
import { importTestModelWithHead } from '../helpers/models.js';

describe('examples/http-server (on 127.0.0.1)', function () {
  this.timeout(60000);
  it('answers a WAV with its transcript, and a bad body with a 400 and the reason', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adapt-asr-http-'));
    const model = (await importTestModelWithHead(dir)).dir;
    const srv = await startServer(0, { model, threads: 1 });
    try {
      const ok = await fetch(srv.url, { method: 'POST', body: fs.readFileSync(audioFixture('speech-en-us-16k.wav')) });
      assert.equal(ok.status, 200);
      const j = (await ok.json()) as { text: string; words: unknown[]; duration: number };
      assert.equal(typeof j.text, 'string');
      assert.ok(Array.isArray(j.words));
      assert.ok(Math.abs(j.duration - 3.205) < 0.01);
      // Two at once: the recognizer serves concurrent requests.
      const both = await Promise.all([1, 2].map(() => fetch(srv.url, { method: 'POST', body: fs.readFileSync(audioFixture('chirp-noise-16k.wav')) }).then((r) => r.json())));
      assert.deepEqual(both[0], both[1]);
      const bad = await fetch(srv.url, { method: 'POST', body: fs.readFileSync(wavFixture('adpcm.wav')) });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: string }).error, /unsupported codec: IMA ADPCM/);
      assert.equal((await fetch(srv.url.replace('/transcribe', '/x'))).status, 404);
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
