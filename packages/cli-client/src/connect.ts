// The real connector: @hush/client's HushClient behind the app's Connector seam.
import { HushClient, type ClientPaths } from '@hush/client';
import type { Connector } from './app.js';
import type { SessionClient } from './sdk.js';

export function sdkConnector(paths?: ClientPaths): Connector {
  return async (req) => {
    const client: SessionClient = await HushClient.connect({
      host: req.host,
      port: req.port,
      ...(req.failover ? { failover: req.failover } : {}),
      ...(paths ? { paths } : {}),
      ...(req.expectedFingerprint ? { expectedFingerprint: req.expectedFingerprint } : {}),
      trust: req.trust,
    });
    return client;
  };
}
