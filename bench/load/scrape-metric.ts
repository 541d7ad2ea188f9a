/** One figure from a gatehouse's Prometheus `/metrics` (on its HTTP listener). */
import { get } from 'node:http';
import { splitAddress } from './worker-calls.js';

/** A gauge or counter from the server's /metrics (the sum over its label sets matching `labels`). */
export function metric(address: string, name: string, labels = ''): Promise<number> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) =>
    get({ host, port, path: '/metrics' }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => {
        let sum = 0;
        for (const line of text.split('\n'))
          if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
        resolve(sum);
      });
    }).on('error', reject),
  );
}
