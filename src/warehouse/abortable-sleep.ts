/**
 * Waits `ms`, or rejects as a cancelled statement when `signal` aborts first: how the test and
 * bench warehouse wrappers hold a call (latency models, held writes) the way a real statement would.
 */
import { WarehouseError } from './types';

export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancelled = (): void => {
      clearTimeout(timer);
      reject(new WarehouseError('statement cancelled', 'cancelled'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', cancelled);
      resolve();
    }, ms);
    if (signal?.aborted) cancelled();
    else signal?.addEventListener('abort', cancelled, { once: true });
  });
}
