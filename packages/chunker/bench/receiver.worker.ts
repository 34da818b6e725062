// The receiving side of the NATS benchmark, in its own thread with its own event loop and
// connection, as a plugin and the broker are separate processes in a deployment.
import { parentPort, workerData } from "node:worker_threads";
import { connect } from "@nats-io/transport-node";
import { subscribeChunked } from "../src/nats.js";

const { url, rawCount } = workerData as { url: string; rawCount: number };
const nc = await connect({ servers: url, name: "bench-rx" });
let got = 0;
nc.subscribe("bench.raw", {
  callback: () => {
    if (++got === rawCount) {
      got = 0;
      nc.publish("bench.raw.done");
    }
  },
});
const svc = subscribeChunked(nc, "bench.chunked", () => undefined);
await nc.flush();
parentPort!.postMessage("ready");
parentPort!.once("message", () => {
  void svc.stop().then(() => nc.close()).then(() => parentPort!.postMessage("closed"));
});
