/** Parent-side handle on a client-harness process (see client-harness.ts). */
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export interface HarnessReady {
  readonly connected: number;
  readonly failed: number;
}

export interface HarnessReceipts {
  /** [seq, receivedAtMs] for every first receipt on every socket. */
  readonly receipts: [number, number][];
  readonly duplicates: number;
}

export class ClientHarness {
  private readonly child: ChildProcess;

  constructor() {
    this.child = fork(resolve(import.meta.dirname, 'client-harness.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }

  private request<T>(message: unknown): Promise<T> {
    return new Promise((resolvePromise) => {
      this.child.once('message', (reply) => resolvePromise(reply as T));
      this.child.send(message as object);
    });
  }

  connect(urls: string[], subscribe?: Record<string, unknown>): Promise<HarnessReady> {
    return this.request({ cmd: 'connect', urls, subscribe });
  }

  collect(): Promise<HarnessReceipts> {
    return this.request({ cmd: 'collect' });
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'close' });
    await exited;
  }
}
