export * from './migration.js';
export * from './outbox.js';
export * from './relay.js';
export * from './consumer.js';
export * from './topology.js';
export * from './dead-letters.js';
export * from './service.js';
export * from './retry.js';
