// NatsBus to a nats-server that wants credentials, and one that speaks TLS only.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus } from '../src/bus/index.js';
import { Delivered, Ledger } from './helpers/bus-ledger.js';
import { startNats, type TestNats } from './helpers/nats.js';

function handlers(ledger: Ledger) {
  const delivered = new Delivered();
  return { delivered, handlers: { from: ledger.lastId, deliver: delivered.deliver, fillGap: ledger.fillGap } };
}

/** Two buses on `connect`: a commit of the first reaches the second. */
async function talks(connect: (h: ReturnType<typeof handlers>['handlers']) => Promise<NatsBus>): Promise<void> {
  const ledger = new Ledger();
  const one = handlers(ledger);
  const two = handlers(ledger);
  const a = await connect(one.handlers);
  const b = await connect(two.handlers);
  try {
    a.publishCommitted(ledger.commit('#r', 'over a guarded bus'));
    await two.delivered.waitFor(1);
    expect(two.delivered.ids).toEqual(['1']);
  } finally {
    await a.close();
    await b.close();
  }
}

describe('NatsBus with credentials', () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startNats(['--user', 'hushd', '--pass', 'bus-secret-1']);
  });
  afterAll(() => nats.stop());

  it('connects with user and password, given as options or in the URL', async () => {
    await talks((h) => NatsBus.connect({ servers: nats.url, user: 'hushd', pass: 'bus-secret-1' }, h));
    await talks((h) => NatsBus.connect({ servers: `nats://hushd:bus-secret-1@127.0.0.1:${nats.port}` }, h));
  });

  it('a wrong password fails the start in words, and the error does not show the password', async () => {
    const ledger = new Ledger();
    const failed = await NatsBus.connect({ servers: `nats://hushd:wrong-secret@127.0.0.1:${nats.port}` }, handlers(ledger).handlers).catch(
      (e: unknown) => e as Error,
    );
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toMatch(new RegExp(`^cannot reach the bus at nats://127\\.0\\.0\\.1:${nats.port}: `));
    expect((failed as Error).message).not.toContain('wrong-secret');
  });
});

describe('NatsBus with a token', () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startNats(['--auth', 'bus-token-1']);
  });
  afterAll(() => nats.stop());

  it('connects with the token in the URL (nats://TOKEN@host:port)', async () => {
    await talks((h) => NatsBus.connect({ servers: `nats://bus-token-1@127.0.0.1:${nats.port}` }, h));
  });
});

describe('NatsBus over TLS', () => {
  let nats: TestNats;
  let dir: string;
  let ca: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hush-nats-tls-'));
    // A self-signed certificate for the name "localhost": it is its own CA.
    ca = join(dir, 'server.crt');
    const key = join(dir, 'server.key');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'].concat([
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        key,
        '-out',
        ca,
      ]),
      { stdio: 'ignore' },
    );
    nats = await startNats(['--tls', '--tlscert', ca, '--tlskey', key]);
  });
  afterAll(async () => {
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects by name when it trusts the CA that signed the server certificate', async () => {
    await talks((h) => NatsBus.connect({ servers: `tls://localhost:${nats.port}`, tls: { caFile: ca } }, h));
  });

  it('refuses a server certificate it cannot verify', async () => {
    const failed = await NatsBus.connect({ servers: `tls://localhost:${nats.port}`, tls: {} }, handlers(new Ledger()).handlers).catch(
      (e: unknown) => e as Error,
    );
    expect((failed as Error).message).toMatch(/^cannot reach the bus at tls:\/\/localhost:\d+: .*self.signed/);
  });
});
