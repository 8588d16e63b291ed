import { HushClient } from '@hush/client';

const env = process.env;
export const bot = await HushClient.connect({
  host: env.HUSH_HOST ?? '127.0.0.1',
  port: Number(env.HUSH_PORT ?? 5555),
  expectedFingerprint: env.HUSH_FINGERPRINT, // `hushd fingerprint`, checked out of band
});
await bot.login(env.HUSH_USER ?? 'pingbot', env.HUSH_PASSWORD); // later runs log in with the device key
bot.on('message', (m) => {
  if (m.kind === 'room' && !m.mine && m.text === '!ping') void bot.send(m.room!, 'pong');
});
