/**
 * A fair reader/writer lock: every write (single-item, transaction, TTL delete) runs
 * alone, reads share, so no reader ever sees half a transaction. Waiters are served in
 * arrival order — a writer waits for the readers before it, a reader for the writers
 * before it, and readers queued together go together — so neither side starves the
 * other under load.
 */
export class ReadWriteLock {
  private readers = 0;
  private writing = false;
  private readonly queue: { readonly write: boolean; readonly start: () => void }[] = [];

  async read<T>(run: () => Promise<T>): Promise<T> {
    if (this.writing || this.queue.length > 0) await new Promise<void>((start) => this.queue.push({ write: false, start }));
    else this.readers++;
    try {
      return await run();
    } finally {
      this.readers--;
      this.wake();
    }
  }

  async write<T>(run: () => Promise<T>): Promise<T> {
    if (this.writing || this.readers > 0 || this.queue.length > 0) await new Promise<void>((start) => this.queue.push({ write: true, start }));
    else this.writing = true;
    try {
      return await run();
    } finally {
      this.writing = false;
      this.wake();
    }
  }

  /** Starts the next writer, or every reader up to the next writer; counts them as holding before they resume. */
  private wake(): void {
    if (this.writing || this.readers > 0) return;
    const next = this.queue[0];
    if (!next) return;
    if (next.write) {
      this.queue.shift();
      this.writing = true;
      next.start();
      return;
    }
    while (this.queue[0] && !this.queue[0].write) {
      this.readers++;
      (this.queue.shift() as { start: () => void }).start();
    }
  }
}
