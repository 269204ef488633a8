/**
 * A writer-preferring reader/writer lock: every write (single-item or transaction) is
 * exclusive, reads share, so no reader ever sees half a transaction.
 */
export class ReadWriteLock {
  private readers = 0;
  private writing = false;
  private readonly waitingWriters: (() => void)[] = [];
  private waitingReaders: (() => void)[] = [];

  async read<T>(run: () => Promise<T>): Promise<T> {
    // A woken reader is counted by wake(), before any writer can slip in.
    if (this.writing || this.waitingWriters.length > 0) {
      await new Promise<void>((resolve) => this.waitingReaders.push(resolve));
    } else {
      this.readers++;
    }
    try {
      return await run();
    } finally {
      this.readers--;
      this.wake();
    }
  }

  async write<T>(run: () => Promise<T>): Promise<T> {
    if (this.writing || this.readers > 0 || this.waitingWriters.length > 0) {
      await new Promise<void>((resolve) => this.waitingWriters.push(resolve));
    } else {
      this.writing = true;
    }
    try {
      return await run();
    } finally {
      this.writing = false;
      this.wake();
    }
  }

  private wake(): void {
    if (this.writing || this.readers > 0) return;
    const writer = this.waitingWriters.shift();
    if (writer) {
      this.writing = true;
      writer();
      return;
    }
    const readers = this.waitingReaders;
    this.waitingReaders = [];
    for (const reader of readers) {
      this.readers++;
      reader();
    }
  }
}
