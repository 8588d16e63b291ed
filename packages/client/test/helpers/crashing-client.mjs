// A hush SDK process that dies (SIGKILL, like a crash) in the middle of a file transfer. Run by
// file-crash-safety.test.ts on the built SDK; its job comes as JSON in the environment:
// { host, port, fingerprint, paths, user, accept?: { fileId, dir }, send?: { target, path } }.
import { HushClient } from '../../dist/index.js';

const job = JSON.parse(process.env.CRASH_JOB ?? '{}');
const client = await HushClient.connect({
  host: job.host,
  port: job.port,
  expectedFingerprint: job.fingerprint,
  paths: job.paths,
  timeoutMs: 10_000,
});
client.on('error', () => undefined);
client.on('fileProgress', (p) => {
  if (p.bytes > 0) process.kill(process.pid, 'SIGKILL');
});
await client.login(job.user);
if (job.accept) {
  const until = Date.now() + 15_000;
  while (!client.pendingFiles().some((f) => f.fileId === job.accept.fileId)) {
    if (Date.now() > until) throw new Error('the offer never came');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await client.acceptFile(job.accept.fileId, job.accept.dir);
} else {
  await client.sendFile(job.send.target, job.send.path);
}
// Finishing means the crash came too late for the test.
process.exit(3);
