// A bot on the built SDK whose 'message' listener throws, with no 'error' listener: the exception must
// come out as the process's uncaught exception (it was swallowed). Run by listener-errors.test.ts;
// its job comes as JSON in the environment: { host, port, fingerprint, paths, user, password }.
import { HushClient } from '../../dist/index.js';

const job = JSON.parse(process.env.LISTENER_JOB ?? '{}');
const bot = await HushClient.connect({ host: job.host, port: job.port, expectedFingerprint: job.fingerprint, paths: job.paths });
await bot.register(job.user, job.password);
bot.on('message', (m) => {
  if (!m.mine) throw new Error(`bug in the bot, on "${m.text}"`);
});
console.log('ready');
setTimeout(() => process.exit(3), 15_000); // the exception never came out
