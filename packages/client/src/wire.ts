// Binary fields travel as unpadded base64url: the rule and its helpers live in @hush/protocol.
export {
  toBase64Url as b64,
  fromBase64Url as unb64,
  bundleToWire,
  bundleFromWire,
} from '@hush/protocol';
