// The images' HEALTHCHECK: GET /healthz on the process's own port.
//   node infra/docker/healthcheck.mjs <PORT_VARIABLE> <default port>
const [variable, fallback] = process.argv.slice(2);
const port = process.env[variable] || fallback;
fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2500) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
