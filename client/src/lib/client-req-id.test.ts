import { describe, expect, it } from 'vitest';
import { CLIENT_REQ_ID_PATTERN, attemptFor, attemptForPreview, finishAttempt, loadAttempt, newClientReqId, type AttemptStore } from './client-req-id';

const memoryStore = (): AttemptStore & { data: Map<string, string> } => {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
};

const counter = () => {
  let n = 0;
  return () => `key-${++n}`;
};

describe('clientReqId: one key per checkout attempt', () => {
  it('reuses the key for the same preview (double click, retry)', () => {
    const generate = counter();
    const first = attemptFor(null, 'pvw_1', generate);
    expect(attemptFor(first, 'pvw_1', generate)).toEqual(first);
    expect(attemptFor(attemptFor(first, 'pvw_1', generate), 'pvw_1', generate).clientReqId).toBe('key-1');
  });

  it('starts a new attempt only when the preview changes', () => {
    const generate = counter();
    const first = attemptFor(null, 'pvw_1', generate);
    const second = attemptFor(first, 'pvw_2', generate);
    expect(second).toEqual({ previewId: 'pvw_2', clientReqId: 'key-2' });
  });

  it('survives a reload through the store and ends when the order is placed', () => {
    const store = memoryStore();
    const generate = counter();
    const a = attemptForPreview(store, 'pvw_1', generate);
    const b = attemptForPreview(store, 'pvw_1', generate); // retry after a lost answer
    expect(b).toEqual(a);
    expect(loadAttempt(store)).toEqual(a);
    finishAttempt(store);
    expect(attemptForPreview(store, 'pvw_1', generate).clientReqId).toBe('key-2');
  });

  it('ignores a corrupt stored attempt', () => {
    const store = memoryStore();
    store.setItem('shop.checkout.attempt', '{not json');
    expect(loadAttempt(store)).toBeNull();
    store.setItem('shop.checkout.attempt', JSON.stringify({ previewId: 'pvw_1', clientReqId: 'has spaces!' }));
    expect(loadAttempt(store)).toBeNull();
  });

  it('generates keys the order subgraph accepts, different each time', () => {
    const a = newClientReqId();
    expect(a).toMatch(CLIENT_REQ_ID_PATTERN);
    expect(newClientReqId()).not.toBe(a);
  });
});
