// Cost of validation on the hot path: decodeInboundEvent / encodeOutboundAction against a plain
// TextDecoder + JSON.parse / JSON.stringify + TextEncoder baseline measured in the same run.
// Prints ratios (lower is better); no timed assertions. Run: pnpm --filter @session-bot/protocol bench
import { decodeInboundEvent, encodeInboundEvent, encodeOutboundAction } from "../src/index.js";
import { sampleInboundEvents, sampleOutboundActions } from "../src/samples.js";

const N = 50_000;
const event = sampleInboundEvents()[0]!;
const bytes = encodeInboundEvent(event);
const action = sampleOutboundActions()[0]!;
const td = new TextDecoder();
const te = new TextEncoder();

function time(label: string, fn: () => unknown): number {
  for (let i = 0; i < 2_000; i++) fn(); // warm-up (and lazy compile)
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  const ns = Number(process.hrtime.bigint() - start) / N;
  console.log(`${label.padEnd(36)} ${(ns / 1000).toFixed(2)} µs/op`);
  return ns;
}

const baseDecode = time("baseline JSON.parse(bytes)", () => JSON.parse(td.decode(bytes)));
const decode = time("decodeInboundEvent(bytes)", () => decodeInboundEvent(bytes));
const baseEncode = time("baseline JSON.stringify → bytes", () => te.encode(JSON.stringify(action)));
const encode = time("encodeOutboundAction(action)", () => encodeOutboundAction(action));
console.log(JSON.stringify({ decodeRatio: +(decode / baseDecode).toFixed(2), encodeRatio: +(encode / baseEncode).toFixed(2) }));
