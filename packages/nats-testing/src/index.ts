export { startNats, tempFile } from "./nats-server.js";
export type { StartNatsOptions, TestNats } from "./nats-server.js";
