/**
 * An async iterable fed by `push`, as graphql-ws consumes a subscription's results. Written by hand,
 * not as an `async function*`: a generator suspended in an `await` cannot be returned until that await
 * settles, so a client's `complete` would hang until the next event. Here `return()` ends the stream at
 * once and runs `onClose` exactly once; `end()` lets the consumer take what is queued, then finishes.
 */
export interface PushStream<T> extends AsyncIterableIterator<T> {
  push(value: T): void;
  /** Finishes after the queued values have been taken (graceful: the client gets `complete`). */
  end(): void;
  return(): Promise<IteratorResult<T>>;
  readonly closed: boolean;
}

export function pushStream<T>(onClose: () => void): PushStream<T> {
  const queue: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let ending = false;
  let closed = false;
  const done = (): IteratorResult<T> => ({ value: undefined, done: true });

  const close = () => {
    if (closed) return;
    closed = true;
    queue.length = 0;
    waiting?.(done());
    waiting = undefined;
    onClose();
  };

  const stream: PushStream<T> = {
    get closed() {
      return closed;
    },
    push(value) {
      if (closed || ending) return;
      if (waiting) {
        const resolve = waiting;
        waiting = undefined;
        resolve({ value, done: false });
      } else {
        queue.push(value);
      }
    },
    end() {
      ending = true;
      if (queue.length === 0) close();
    },
    next() {
      if (queue.length > 0) {
        const value = queue.shift()!;
        if (ending && queue.length === 0) queueMicrotask(close);
        return Promise.resolve({ value, done: false });
      }
      if (closed || ending) {
        close();
        return Promise.resolve(done());
      }
      return new Promise((resolve) => (waiting = resolve));
    },
    return() {
      close();
      return Promise.resolve(done());
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
