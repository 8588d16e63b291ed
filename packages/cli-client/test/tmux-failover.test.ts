// `hush` with several server addresses (the nodes of one cluster): it logs in past a dead first
// address, and when its node goes away it carries on with the other one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HushClient } from '@hush/client';
import { startTestServer, type TestServer } from '@hush/server/testing';
import { closedPort } from '@hush/test-kit';
import { describe, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

const onChat = (screen: string) => screen.includes('#lobby') && / connected /.test(screen);

/** alice registering through the form, given `ports` on 127.0.0.1 as her server's addresses. */
function aliceOn(ports: number[]) {
  const hosts = ports.map((p) => `127.0.0.1:${p}`).join(',');
  return bed.start(['--host', hosts, '--user', 'alice', '--register', '--login', '--fingerprint', bed.server.fingerprint]);
}

describe('hush with a list of server addresses', () => {
  it('logs in past a first address that refuses', async () => {
    const dead = await closedPort();
    const s = aliceOn([dead, bed.server.port]);
    await s.waitFor(onChat, 'alice on the chat screen');
  });

  it('its node stops: it reconnects to the other node and shows what is said there', async () => {
    const portB = await closedPort();
    const s = aliceOn([bed.server.port, portB]);
    await s.waitFor(onChat, 'alice on the chat screen');
    await bed.stopServer();
    await s.waitFor((x) => !/ connected /.test(x), 'alice sees the connection go');
    // Node B: the same identity and data, on hush's second address.
    let nodeB: TestServer | undefined;
    const home = mkdtempSync(join(tmpdir(), 'hush-failover-bob-'));
    let bob: HushClient | undefined;
    try {
      nodeB = await startTestServer({ dataDir: bed.dataDir, port: portB, registration: 'open' });
      await s.waitFor(onChat, 'alice back on the chat screen, through node B');
      bob = await HushClient.connect({
        host: '127.0.0.1',
        port: portB,
        expectedFingerprint: nodeB.fingerprint,
        paths: { configDir: join(home, 'config'), dataDir: join(home, 'data') },
      });
      await bob.register('bob', 'another good password');
      await bob.send('lobby', 'hello from node b');
      await s.waitFor('<bob> hello from node b');
    } finally {
      await bob?.close();
      await nodeB?.stop();
      rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });
});
