// A listener of the application that throws: the SDK and the other listeners go on; the exception is
// the application's, said as such to an 'error' listener, or thrown outside the SDK without one.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '@hush/server';
import { passwordOf, sharedServer } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { collect, Fixture, nextEvent } from './helpers.js';

const CHILD = fileURLToPath(new URL('./helpers/throwing-listener.mjs', import.meta.url));

describe('a listener that throws', () => {
  const fx = new Fixture();
  const server = sharedServer(startTestServer, fx);

  it('stops neither the listeners after it nor the next events; an error listener hears it in words, the exception as cause', async () => {
    const alice = await fx.user(server, 'lia');
    const bob = await fx.user(server, 'leo');
    await alice.createRoom('oops');
    await bob.joinRoom('oops');
    const bug = new Error('bug in the bot');
    bob.on('message', (m) => {
      if (m.text === 'one') throw bug;
    });
    const heard = collect(bob, 'message');
    const errors = collect(bob, 'error');
    const two = nextEvent(bob, 'message', (m) => m.text === 'two');
    await alice.send('oops', 'one');
    await alice.send('oops', 'two');
    await two;
    expect(heard.map((m) => m.text)).toEqual(['one', 'two']);
    expect(errors.map((e) => [e.code, e.message])).toEqual([['INTERNAL', "a 'message' listener threw: Error: bug in the bot"]]);
    expect(errors[0]!.cause).toBe(bug);
  });

  it('without an error listener, the exception ends the process as an uncaught one, as with Node emitters (it was swallowed)', async () => {
    const alice = await fx.user(server, 'lin');
    const job = {
      host: server.host,
      port: server.port,
      fingerprint: server.fingerprint,
      paths: await fx.paths(),
      user: 'lex',
      password: passwordOf('lex'),
    };
    const child = spawn(process.execPath, [CHILD], {
      env: { ...process.env, LISTENER_JOB: JSON.stringify(job) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const check = () => (out.includes('ready') ? resolve() : undefined);
      child.stdout.on('data', check);
      void exited.then(() => reject(new Error(`the bot ended before it was ready:\n${out}`)));
    });
    await alice.sendDirect('lex', 'hello bot');
    expect(await exited).toBe(1);
    expect(out).toContain('Error: bug in the bot, on "hello bot"');
  });
});
