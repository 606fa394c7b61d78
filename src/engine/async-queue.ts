/** A minimal single-consumer async queue: push() values, close() to end iteration. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | null = null;
  private closed = false;

  push(v: T): void {
    this.items.push(v);
    this.waiter?.();
  }

  /** The values pushed and not yet taken by the consumer, oldest first (a copy). */
  pending(): T[] {
    return [...this.items];
  }

  close(): void {
    this.closed = true;
    this.waiter?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length) {
        yield this.items.shift() as T;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = null;
    }
  }
}
