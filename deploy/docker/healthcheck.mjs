// Container HEALTHCHECK: GET http://127.0.0.1:<port>/healthz, exit 0 when it answers 2xx.
// Usage: node healthcheck.mjs <PORT_ENV_VARIABLE> <default port> [path] [any]
// With `any`, every HTTP answer counts (a server without a health route: the devnet).
// The port is read from the same variable the service listens on, so overriding it keeps the
// check right. No shell, no curl: the image needs nothing but node.
const [portVar, fallback, path = "/healthz", accept = "2xx"] = process.argv.slice(2);
const port = Number(process.env[portVar ?? ""] || fallback);
try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) });
  process.exitCode = res.ok || accept === "any" ? 0 : 1;
} catch {
  process.exitCode = 1;
}
