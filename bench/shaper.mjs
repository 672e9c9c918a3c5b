// A shaped uplink for the benchmark: a TCP proxy on loopback in front of an endpoint (moto) whose
// client → server direction is paced by one token bucket shared by all connections, as a home or
// office uplink is; answers flow back unshaped.
// usage: node bench/shaper.mjs TARGET_PORT MBIT_PER_S  → prints the listening port on stdout.
import { createConnection, createServer } from 'node:net';

const target = Number(process.argv[2]);
const rate = (Number(process.argv[3]) * 1e6) / 8; // bytes per second
const burst = Math.max(16 * 1024, rate / 50); // at most 20 ms of the rate at once
const tickMs = 2;
let tokens = burst;
let last = performance.now();
/** Chunks waiting for the uplink, first come first served: { data, to, done }. */
const queue = [];

function pump() {
  const now = performance.now();
  tokens = Math.min(burst, tokens + ((now - last) / 1000) * rate);
  last = now;
  while (queue.length > 0 && tokens >= 1) {
    const head = queue[0];
    const n = Math.min(head.data.length, Math.floor(tokens));
    if (!head.to.destroyed) head.to.write(head.data.subarray(0, n));
    tokens -= n;
    head.data = head.data.subarray(n);
    if (head.data.length === 0) {
      queue.shift();
      head.done();
    }
  }
}
setInterval(pump, tickMs);

const server = createServer((client) => {
  const upstream = createConnection({ host: '127.0.0.1', port: target });
  client.on('data', (data) => {
    client.pause();
    queue.push({ data, to: upstream, done: () => client.resume() });
  });
  upstream.pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('end', () => {
    // Half-close only once what was queued for this connection has gone out.
    const waitDrain = () => (queue.some((q) => q.to === upstream) ? setTimeout(waitDrain, tickMs) : upstream.end());
    waitDrain();
  });
  upstream.on('close', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
