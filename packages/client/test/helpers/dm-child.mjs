// A child process running the built SDK for the session crash test. It logs in with its bound
// device and prints one line per event the parent counts:
//   SHOWN <id> <text>   a DM shown       ACK <text> <id>   a DM the server acknowledged
//   OWN <id>            one of ours shown WARN <kind>      a dmWarning       READY   logged in
// and sends `count` DMs to `peer` (texts <prefix><n>, n from `first`), one after another.
import { HushClient } from '../../dist/index.js';

const [host, port, configDir, dataDir, user, peer, prefix, first, count] = process.argv.slice(2);
const out = (line) => process.stdout.write(`${line}\n`);
const client = await HushClient.connect({ host, port: Number(port), paths: { configDir, dataDir }, timeoutMs: 10_000 });
client.on('message', (m) => {
  if (m.kind === 'dm') out(m.mine ? `OWN ${m.id}` : `SHOWN ${m.id} ${m.text}`);
});
client.on('dmWarning', (w) => out(`WARN ${w.kind}`));
client.on('error', () => undefined);
await client.login(user);
out('READY');
for (let n = Number(first); n < Number(first) + Number(count); n++) {
  const ack = await client.sendDirect(peer, `${prefix}${n}`);
  out(`ACK ${prefix}${n} ${ack.id}`);
}
out('DONE');
