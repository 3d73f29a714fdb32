/** The simulator signs with the very code the payment subgraph verifies with (kept in the kit). */
export { SIGNATURE_HEADER, hmacHex, signPayload, verifySignature, type VerifyResult } from '@shop/kit';
