// Hive Gateway's configuration in `npm run bench:gateway` (infra/bench/gateway.mjs): the peer handles a
// client's identity exactly as our gateway does (gateway/src/data-source.ts), so the authenticated mix
// compares like with like. The bearer token is verified once per client request with the kit's
// verifyClientToken, and each subgraph fetch carries the identity signed for that subgraph alone
// (signInternalIdentity, `aud` shop-subgraph:<name>); no client header reaches a subgraph.
// Anonymous requests carry nothing. Everything else is Hive Gateway's default.
import { defineConfig } from '@graphql-hive/gateway';

process.env.LOG_LEVEL ??= 'error';
const { verifyClientToken, signInternalIdentity, IDENTITY_HEADER } = await import('../../subgraphs/kit/dist/index.js');

/** One verification per client request, however many subgraphs it reaches. */
const identities = new WeakMap();
const identityOf = (request) => {
  let identity = identities.get(request);
  if (!identity) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
    if (!match) return undefined;
    identity = verifyClientToken(match[1]);
    identities.set(request, identity);
  }
  return identity;
};

export const gatewayConfig = defineConfig({
  propagateHeaders: {
    async fromClientToSubgraphs({ request, subgraphName }) {
      const identity = identityOf(request);
      if (!identity) return {};
      return { [IDENTITY_HEADER]: await signInternalIdentity(await identity, subgraphName) };
    },
  },
});
