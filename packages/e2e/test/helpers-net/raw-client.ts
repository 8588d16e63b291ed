// The raw protocol client lives in @hush/server/testing (one for every package's tests).
export { directEnvelope, RawClient } from '@hush/server/testing';
export { toBase64Url as b64, fromBase64Url as unb64 } from '@hush/protocol';
