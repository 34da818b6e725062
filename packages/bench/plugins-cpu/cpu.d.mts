/** Types of cpu.mjs (the bench's CPU-bound plugin). */
export declare function burn(iters: number): Buffer;
declare const plugin: { name: string; version: string; description: string; onMessage(ctx: unknown): Promise<void> };
export default plugin;
