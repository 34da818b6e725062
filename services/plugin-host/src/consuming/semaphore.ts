/** A counting semaphore: the per-worker concurrency limit. */
export class Semaphore {
  private readonly waiters: Array<() => void> = [];
  private used = 0;

  constructor(private readonly size: number) {}

  /** Slots in use. */
  get inUse(): number {
    return this.used;
  }

  /** Waits for a free slot. */
  async acquire(): Promise<void> {
    if (this.used < this.size) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Frees a slot (hands it to the next waiter, if any). */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.used--;
  }
}
