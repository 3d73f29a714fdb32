import { SUBGRAPH_NAMES } from './source-reads.js';

/** The server processes a deployment runs: the name of its Deployment / compose service, its source entry. */
export const SERVER_PROCESSES: Record<string, string> = {
  gateway: 'gateway/src/index.ts',
  ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, `subgraphs/${name}/src/index.ts`])),
  'psp-simulator': 'infra/src/psp-simulator/index.ts',
};

/**
 * Variables a process reads that a deployment leaves unset on purpose, each with its reason. Every
 * other variable a process reads must be set by the manifests.
 */
export const UNSET_ON_PURPOSE: Record<string, string> = {
  SHOP_RUN_ID: 'the test harness prefixes broker names with it',
  SQL_DEBUG: 'logs every SQL statement; for debugging',
  PSP_STATE_FILE: "the simulator's optional persistence file",
  PSP_HOST: 'the simulator binds LISTEN_HOST unless told otherwise',
  SUPERGRAPH_PATH: 'the image has schema/supergraph.graphql where the gateway looks by default',
  PARTNER_OPERATIONS_PATH: 'the image has schema/operations/partner-operations.json where the gateway looks by default',
  DEMO_DATA: 'demo data is for demo deployments only',
  JWT_ISSUER: 'client tokens are checked for an issuer only when one is configured',
  JWT_AUDIENCE: 'client tokens are checked for an audience only when one is configured',
  ADDRESS_ENCRYPTION_OLD_KEYS: 'set only while npm run rotate-address-key moves rows to a new key',
  CLIENT_OPERATIONS_PATH: 'the image has client/src/operations where the gateway looks by default',
  SHARED_PORT: 'replicas behind a Service (or Compose) each have an address of their own; a shared port is for several processes on one host',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'tracing is off (and its SDK not even loaded) unless an OTLP collector is deployed; README "Operations"',
};

/** Variables that carry credentials although the code reads them without secret(). */
export const CREDENTIAL_VARIABLES = ['DATABASE_URL', 'AMQP_URL', 'REDIS_URL'];
