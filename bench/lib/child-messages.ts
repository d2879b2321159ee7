/**
 * The bench's worker child processes talk to the parent by IPC messages, each `{ type, … }`, with
 * `{ type: 'failed', message }` when the child gives up. One helper waits for a given type.
 */
import type { ChildProcess } from 'node:child_process';

export type FailedMessage = { type: 'failed'; message: string };

/** The next message of `type` from `child`; rejects on a `failed` message, the child's exit or the time-out. */
export function waitForChildMessage<M extends { type: string }, T extends M['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
  who = 'bench worker',
): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${who}: no "${type}" within ${timeoutMs / 1000} s`)), timeoutMs);
    const onMessage = (m: M): void => {
      if (m.type === type) done(undefined, m as Extract<M, { type: T }>);
      else if (m.type === 'failed') done(new Error(`${who} failed: ${(m as unknown as FailedMessage).message}`));
    };
    const onExit = (code: number | null): void => done(new Error(`${who} exited (code ${String(code)}) before "${type}"`));
    const done = (err?: Error, m?: Extract<M, { type: T }>): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m as Extract<M, { type: T }>);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
